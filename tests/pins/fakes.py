"""Fakes of the kernel's GPIO character device and of the ``lgpio`` module, modelled on their sources.

The kernel (raspberrypi/linux, ``drivers/gpio/gpiolib-cdev.c``):

* ``gpio_desc_to_lineinfo``: a line is reported ``GPIO_V2_LINE_FLAG_USED`` when it is requested
  (by a driver such as spi-bcm2835's chip selects, or by a program), hogged, or muxed away from
  GPIO by pinctrl (``pinctrl_gpio_can_use_line``: I2C on GPIO2/3, then with no consumer name);
  direction comes from ``FLAG_IS_OUT``; bias flags come from ``FLAG_PULL_UP``/``FLAG_PULL_DOWN``/
  ``FLAG_BIAS_DISABLE``, which are only set while the line is requested: ``gpiod_free_commit``
  (``drivers/gpio/gpiolib.c``) clears them on release. So a released line reports no bias at all,
  whatever its pull really is.
* ``chipinfo_get``: ``GPIO_GET_CHIPINFO_IOCTL`` answers the chip's name, label and line count.
  The header's chip is labelled ``pinctrl-rp1`` on a Pi 5 (``gpiochip4`` on early kernels,
  ``gpiochip0`` later), ``pinctrl-bcm2711`` on a Pi 4, ``pinctrl-bcm2835`` before.

lgpio (joan2937/lg, v0.2.2.0), as gpiozero's ``LGPIOFactory`` drives it:

* ``PY_LGPIO/lgpio_extra.py``: every failure is ``lgpio.error(error_text(status))`` (``_u2i``);
  the class keeps the text in ``value`` and its ``__str__`` is ``repr(value)``, so ``str(error)``
  is ``"'GPIO busy'"``, quotes included. ``error_text`` comes from ``lgErr.c`` (``xErrInfo``).
* ``lgGpio.c`` ``xGpioHandleRequest``: a line another user holds makes the kernel's
  ``GPIO_V2_GET_LINE_IOCTL`` fail with ``EBUSY``, which lgpio reports as ``LG_GPIO_BUSY``
  ("GPIO busy"). The consumer label of lgpio's own requests is ``"lg"`` (``lgGpiochipOpen``).
* ``lgGpio.c`` ``xSetAsInput``/``xSetAsOutput``: claiming a line already claimed in that direction
  does nothing (new flags and level are ignored); otherwise lgpio frees its own claim first
  (``xSetAsFree``) and then requests the line, so a failed request leaves it free.
* ``lgGpio.c`` ``lgGpioRead``: reading a line nobody here claimed claims it as an input.
  ``lgGpioWrite``: writing a line that is not an output claims it as an output.
* ``lgGpio.c`` ``lgGpioClaimAlert``: lgpio frees its own claim on the line first (``xSetAsFree``),
  then requests it with edge flags; whatever makes that ``GPIO_V2_GET_LINE_IOCTL`` fail is reported
  as ``LG_BAD_EVENT_REQUEST`` ("bad event request"), the errno dropped, and the line stays free:
  ``EBUSY`` for a line another user holds, ``ENXIO`` for a line without an interrupt (the kernel's
  ``gpiolib-cdev.c`` ``edge_detector_setup``: ``gpiod_to_irq`` fails; :attr:`Line.irq` false).
* ``lgGpio.c`` ``lgTxPwm``: a frequency outside 0.1-10,000 Hz is ``LG_BAD_PWM_FREQ``
  ("bad PWM frequency"), a duty cycle outside 0-100 ``LG_BAD_PWM_DUTY``; frequency 0 stops PWM.
* ``lgGpio.c`` ``lgGpioGetMode``: the kernel's line info as lgpio's mode bits, plus lgpio's own
  bits (input 256, output 512, alert 1024) only for lines this process claimed.
"""

from __future__ import annotations

import struct
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pins import parsers

# lgErr.c xErrInfo: the texts lgpio.error carries.
GPIO_BUSY = "GPIO busy"
BAD_PWM_FREQ = "bad PWM frequency"
BAD_PWM_DUTY = "bad PWM dutycycle"
BAD_EVENT_REQUEST = "bad event request"
BAD_GPIO_NUMBER = "bad GPIO number"


@dataclass
class Line:
    """One line as the kernel keeps it (``struct gpio_desc``)."""

    direction: str = "input"
    bias: str | None = None  # "up", "down", "disabled": only while requested
    consumer: str | None = None  # the requester's label; None when free
    muxed: bool = False  # pinctrl gave the pin to another function (I2C, UART): used, no consumer
    level: int = 0
    irq: bool = True  # the pin controller maps the line to an interrupt (gpiod_to_irq succeeds)

    @property
    def requested(self) -> bool:
        return self.consumer is not None

    def request(self, consumer: str, direction: str, bias: str | None) -> None:
        self.consumer, self.direction, self.bias = consumer, direction, bias

    def release(self) -> None:
        # gpiolib.c gpiod_free_commit: the label and the bias flags go; the direction stays.
        self.consumer, self.bias = None, None


@dataclass
class FakeChip:
    """One gpiochip as the kernel sees it: every line's direction, bias while requested, and owner."""

    path: Path
    label: str = "pinctrl-rp1"
    name: str = "gpiochip0"
    lines: dict[int, Line] = field(default_factory=lambda: {offset: Line() for offset in range(54)})
    asked: list[int] = field(default_factory=list)

    def line_info(self, path: Path, request: bytes) -> bytes:
        """``GPIO_V2_GET_LINEINFO_IOCTL`` (gpiolib-cdev.c ``lineinfo_get`` + ``gpio_desc_to_lineinfo``)."""
        assert path == self.path, f"asked {path}, the header is {self.path}"
        assert len(request) == parsers.LINE_INFO_SIZE
        (offset,) = struct.unpack_from("<I", request, 64)
        assert request[:64] == b"\0" * 64, "a line info request is zeroed"
        assert request[68:] == b"\0" * 188, "a line info request is zeroed (the kernel refuses non-zero padding)"
        self.asked.append(offset)
        if offset not in self.lines:
            raise OSError(22, "Invalid argument")
        return self.info(offset)

    def info(self, offset: int) -> bytes:
        line = self.lines[offset]
        flags = parsers.LINE_FLAG_OUTPUT if line.direction == "output" else parsers.LINE_FLAG_INPUT
        if line.requested or line.muxed:
            flags |= parsers.LINE_FLAG_USED
        flags |= {
            "up": parsers.LINE_FLAG_BIAS_PULL_UP,
            "down": parsers.LINE_FLAG_BIAS_PULL_DOWN,
            "disabled": parsers.LINE_FLAG_BIAS_DISABLED,
            None: 0,
        }[line.bias]
        name = f"GPIO{offset}".encode()
        consumer = (line.consumer or "").encode()
        return struct.pack("<32s32sIIQ160s16s", name, consumer, offset, 0, flags, b"", b"")

    def chip_info(self) -> bytes:
        """``GPIO_GET_CHIPINFO_IOCTL`` (gpiolib-cdev.c ``chipinfo_get``)."""
        return struct.pack("<32s32sI", self.name.encode(), self.label.encode(), len(self.lines))


class FakeDevices:
    """The ioctls of ``/dev/gpiochipN`` files, answered by the :class:`FakeChip` at each path."""

    def __init__(self, *chips: FakeChip) -> None:
        self.chips = {chip.path: chip for chip in chips}

    def line_info(self, path: Path, request: bytes) -> bytes:
        return self._chip(path).line_info(path, request)

    def chip_info(self, path: Path) -> bytes:
        return self._chip(path).chip_info()

    def _chip(self, path: Path) -> FakeChip:
        try:
            return self.chips[path]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory", str(path)) from None


def fake_lgpio(chip: FakeChip) -> Any:
    """The parts of lgpio gpiozero's ``LGPIOFactory`` uses, over ``chip`` (see the module docstring)."""
    module: Any = types.ModuleType("lgpio")
    module.__version__ = "0.2.2.0"
    module.SET_ACTIVE_LOW = 4
    module.SET_OPEN_DRAIN = 8
    module.SET_OPEN_SOURCE = 16
    module.SET_PULL_UP = 32
    module.SET_PULL_DOWN = 64
    module.SET_PULL_NONE = 128
    module.RISING_EDGE, module.FALLING_EDGE, module.BOTH_EDGES = 1, 2, 3

    class error(Exception):
        """lgpio_extra.py ``error``: the text in ``value``; ``str()`` is its ``repr``."""

        def __init__(self, value: str) -> None:
            self.value = value

        def __str__(self) -> str:
            return repr(self.value)

    module.error = error
    # lgpio's per-handle line table (lgGpio.c LineInf[].mode): None, "input", "output" or "alert".
    module.modes = {}
    module.calls = []  # every call, for tests that check what was asked
    module.callbacks = {}
    bias_of = {32: "up", 64: "down", 128: "disabled", 0: None}

    def check(gpio: int) -> None:
        if gpio not in chip.lines:
            raise error(BAD_GPIO_NUMBER)

    def free(gpio: int) -> None:  # lgGpio.c xSetAsFree
        if module.modes.pop(gpio, None) is not None:
            chip.lines[gpio].release()

    def request(gpio: int, direction: str, flags: int, failure: str = GPIO_BUSY) -> None:  # xClaim
        line = chip.lines[gpio]
        if line.requested or line.muxed:
            raise error(failure)  # the kernel's EBUSY
        line.request("lg", direction, bias_of[flags & 0xE0])

    def claim(gpio: int, direction: str, flags: int) -> None:  # xSetAsInput / xSetAsOutput
        check(gpio)
        if module.modes.get(gpio) == direction:
            return  # "nothing to do, already an input/output": flags and level ignored
        free(gpio)
        request(gpio, direction, flags)
        module.modes[gpio] = direction

    def gpiochip_open(number: int) -> int:
        module.calls.append(("gpiochip_open", number))
        return 1 | (number << 16)

    def gpio_claim_input(handle: int, gpio: int, lFlags: int = 0) -> int:
        module.calls.append(("gpio_claim_input", gpio, lFlags))
        claim(gpio, "input", lFlags)
        return 0

    def gpio_claim_output(handle: int, gpio: int, level: int = 0, lFlags: int = 0) -> int:
        module.calls.append(("gpio_claim_output", gpio, level, lFlags))
        was_output = module.modes.get(gpio) == "output"
        claim(gpio, "output", lFlags)
        if not was_output:
            chip.lines[gpio].level = 1 if level else 0
        return 0

    def gpio_free(handle: int, gpio: int) -> int:
        module.calls.append(("gpio_free", gpio))
        check(gpio)
        free(gpio)
        return 0

    def gpio_get_mode(handle: int, gpio: int) -> int:
        check(gpio)
        flags = struct.unpack_from("<Q", chip.info(gpio), 72)[0]
        mode = 0
        mode |= 1 if flags & parsers.LINE_FLAG_USED else 0
        mode |= 2 if flags & parsers.LINE_FLAG_OUTPUT else 0
        mode |= 32 if flags & parsers.LINE_FLAG_BIAS_PULL_UP else 0
        mode |= 64 if flags & parsers.LINE_FLAG_BIAS_PULL_DOWN else 0
        mode |= 128 if flags & parsers.LINE_FLAG_BIAS_DISABLED else 0
        mode |= 1 << 16 if flags & parsers.LINE_FLAG_INPUT else 0
        mode |= {None: 0, "input": 256, "output": 512, "alert": 1024}[module.modes.get(gpio)]
        return mode

    def gpio_read(handle: int, gpio: int) -> int:
        check(gpio)
        if gpio not in module.modes:
            claim(gpio, "input", 0)  # lgGpioRead claims an unclaimed line as an input
        return chip.lines[gpio].level

    def gpio_write(handle: int, gpio: int, level: int) -> int:
        module.calls.append(("gpio_write", gpio, level))
        check(gpio)
        if module.modes.get(gpio) != "output":
            claim(gpio, "output", 0)  # lgGpioWrite: "auto set output if a singleton"
        chip.lines[gpio].level = 1 if level else 0
        return 0

    def tx_pwm(
        handle: int,
        gpio: int,
        pwm_frequency: float,
        pwm_duty_cycle: float,
        pulse_offset: int = 0,
        pulse_cycles: int = 0,
    ) -> int:
        module.calls.append(("tx_pwm", gpio, pwm_frequency, pwm_duty_cycle))
        check(gpio)
        if pwm_frequency == 0:
            return 0
        if pwm_frequency < 0.1 or pwm_frequency > 1e4:
            raise error(BAD_PWM_FREQ)
        if pwm_duty_cycle < 0 or pwm_duty_cycle > 100:
            raise error(BAD_PWM_DUTY)
        if module.modes.get(gpio) != "output":
            claim(gpio, "output", 0)  # xSetAsPwm sets the line as an output first
        return 19  # lgTxPulse: the room left in the PWM queue

    def gpio_claim_alert(handle: int, gpio: int, eFlags: int, lFlags: int = 0, notify_handle: Any = None) -> int:
        module.calls.append(("gpio_claim_alert", gpio, eFlags, lFlags))
        check(gpio)
        free(gpio)
        request(gpio, "input", lFlags, failure=BAD_EVENT_REQUEST)  # EBUSY
        if not chip.lines[gpio].irq:
            chip.lines[gpio].release()  # edge_detector_setup: ENXIO, the request is undone
            raise error(BAD_EVENT_REQUEST)
        module.modes[gpio] = "alert"
        return 0

    class Callback:
        def __init__(self, gpio: int, func: Any) -> None:
            self.gpio, self.func = gpio, func

        def cancel(self) -> None:
            module.callbacks.pop(self.gpio, None)

    def callback(handle: int, gpio: int, edge: int = 1, func: Any = None) -> Callback:
        made = module.callbacks[gpio] = Callback(gpio, func)
        return made

    def gpiochip_close(handle: int) -> int:
        for gpio in list(module.modes):
            free(gpio)
        return 0

    for function in (
        gpiochip_open, gpiochip_close, gpio_claim_input, gpio_claim_output, gpio_free, gpio_get_mode,
        gpio_read, gpio_write, tx_pwm, gpio_claim_alert, callback,
    ):  # fmt: skip
        setattr(module, function.__name__, function)
    return module
