"""Fakes of the kernel's GPIO stack and of the ``lgpio`` module, modelled on their sources and checked
against the real kernel (Debian's 6.1 arm64 kernel on QEMU's raspi3b: ``tests/kernel/``).

The kernel (torvalds/linux v6.1 unless named; raspberrypi/linux rpi-6.6.y for Pi OS):

* ``drivers/gpio/gpiolib-cdev.c`` ``gpio_desc_to_lineinfo``: a line is ``GPIO_V2_LINE_FLAG_USED``
  when it is requested (by a driver such as spi-bcm2835's chip selects, or by a program), hogged,
  or ``!pinctrl_gpio_can_use_line()``. ``drivers/pinctrl/pinmux.c`` ``pinmux_can_be_used_for_gpio``
  answers "no" only for a *strict* controller, and neither ``pinctrl-bcm2835`` nor ``pinctrl-rp1``
  sets ``.strict`` in its ``pinmux_ops``: **a pin muxed to I2C or a UART reads "unused"**, with the
  direction of a plain input. (The real kernel: GPIO2/3 in ``alt0`` for ``3f804000.i2c`` read
  flags ``0x10000``, input, unused.)
* ``pinmux.c`` ``pin_request`` with a GPIO range: the mux owner blocks the request only on a strict
  controller. So **claiming a muxed pin succeeds** and ``pinctrl-bcm2835.c``
  ``bcm2835_pmx_gpio_set_direction`` re-muxes it to ``gpio_in``/``gpio_out``; ``pinmux-pins`` keeps
  naming the bus driver as its owner. (Real kernel: ``claim_output(2)`` returned 0, ``alt0`` became
  ``gpio_out``.) Only another *requester* of the line makes the request fail, with ``EBUSY``.
* ``gpiolib.c`` ``gpiod_free_commit``: the label and the bias flags go on release; ``FLAG_IS_OUT``
  stays, so **line info keeps reporting "output" for a released line** that the pin controller has
  since made an input. ``gpio_set_bias`` touches the pull only when a bias flag was requested.
* ``pinctrl-bcm2835.c`` ``bcm2835_pmx_gpio_disable_free`` (upstream): a released line goes back to
  ``gpio_in``, an output included. Raspberry Pi OS's kernels keep a released output driving
  (``persist_gpio_outputs``, on by default there; ``pinctrl-rp1`` the same): ``persist_outputs``.
  QEMU's 6.1 kernel lacks the parameter, so that case exists only here.
* ``pinctrl-bcm2835.c`` ``bcm2835_pctl_pin_dbg_show`` and ``pinmux.c`` ``pinmux_pins_show``: the
  debugfs ``pins`` and ``pinmux-pins`` lines (``pin 2 (gpio2) 0:? function alt0 in lo; irq 0
  (none)``; ``pin 2 (gpio2): 3f804000.i2c (GPIO UNCLAIMED) function alt0 group gpio2``), and
  ``pinmux_select``, which sets a function from ``"<group> <function>\\n"``.
* The function-select registers as raspberrypi/utils ``pinctrl`` reads them through /dev/gpiomem
  (``pinctrl/gpiochip_bcm2835.c``: GPFSELn, GPLEV0, the BCM2711's GPIO_PUP_PDN_CNTRL_REGn) or
  /dev/gpiomem0 (``pinctrl/gpiochip_rp1.c``: io_bank0 ctrl, sys_rio OUT/OE/SYNC_IN, pads). QEMU's
  kernel has no /dev/gpiomem (a Pi OS device): the file here is a regular file holding the registers.
* ``drivers/gpio/gpiolib-cdev.c`` ``chipinfo_get``: ``GPIO_GET_CHIPINFO_IOCTL`` answers the chip's
  name, label and line count. The header's chip is labelled ``pinctrl-rp1`` on a Pi 5 (``gpiochip4``
  on early kernels, ``gpiochip0`` later), ``pinctrl-bcm2711`` on a Pi 4, ``pinctrl-bcm2835`` before.

QEMU models no pulls; the pulls here follow the datasheets (BCM2835 pulls are write-only, so
/dev/gpiomem cannot show them; the BCM2711 and RP1 keep them readable).

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
  ("bad PWM frequency"), a duty cycle outside 0-100 ``LG_BAD_PWM_DUTY``; frequency 0 stops PWM. The
  duty cycle is a float percentage, timed in whole microseconds (``micros_on = duty / 100 * micros +
  0.5``, truncated); :attr:`pwm` keeps ``(micros_on, micros)`` of each line running PWM, and a
  ``micros_on`` of 0 is PWM running at 0 %, not stopped. ``xSetAsPwm`` makes the line an output
  first. ``lgpio_extra.py`` ``tx_pwm`` returns the room left in the line's PWM queue.
* ``lgGpio.c`` ``xSetAsFree`` (claiming the line in another direction, or freeing it) marks its PWM
  inactive; ``lgGpioWrite`` does not: PWM goes on toggling a line that was written.
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


_BIAS_PULLS = {"up": "up", "down": "down", "disabled": "floating"}


@dataclass
class Line:
    """One pin: the kernel's ``struct gpio_desc`` for its line, and the SoC's function select for the pin."""

    direction: str = "input"  # gpiolib's FLAG_IS_OUT: set on request and direction changes, kept on release
    bias: str | None = None  # "up", "down", "disabled": only while requested
    consumer: str | None = None  # the requester's label; None when free
    level: int = 0  # the pin's level (an output's latch)
    mode: str | None = None  # the function select: "input", "output", "alt0"...; None: as ``direction``
    pull: str = "floating"  # the pad's pull resistor: "up", "down", "floating"
    owner: str | None = None  # the device whose pinmux holds the pin (debugfs pinmux-pins); None: nobody
    outside: int | None = None  # what the wiring puts on the pin when it does not drive it (default: level)
    latch: int | None = None  # what it drives as an output (GPSET/GPCLR), kept while it is not one
    irq: bool = True  # the pin controller maps the line to an interrupt (gpiod_to_irq succeeds)

    def __post_init__(self) -> None:
        if self.mode is None:
            self.mode = self.direction
        if self.outside is None:
            self.outside = 0 if self.mode == "output" else self.level
        if self.latch is None:
            self.latch = self.level if self.mode == "output" else 0

    @classmethod
    def muxed(cls, mode: str, owner: str) -> Line:
        """A pin a driver's pinctrl state gave to its bus (I2C, a UART): free as far as line info says."""
        return cls(mode=mode, owner=owner)

    @property
    def requested(self) -> bool:
        return self.consumer is not None


@dataclass
class FakeChip:
    """One gpiochip and its pin controller: lines, function selects, levels and pulls, and how the
    kernel changes them on request and release (see the module docstring for the sources).

    With ``gpiomem`` set, the registers are kept in that file (BCM2835/2711 or RP1 layout by label) and
    writes to it (``pinctrl set``) take effect; with ``debugfs`` set, that directory holds the pin
    controller's ``pins``/``pinmux-pins``, and ``pinmux-select`` takes effect.
    """

    path: Path
    label: str = "pinctrl-rp1"
    name: str = "gpiochip0"
    lines: dict[int, Line] = field(default_factory=lambda: {offset: Line() for offset in range(54)})
    asked: list[int] = field(default_factory=list)
    persist_outputs: bool = False  # Pi OS's pinctrl_bcm2835.persist_gpio_outputs / pinctrl-rp1
    gpiomem: Path | None = None
    debugfs: Path | None = None
    history: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # (mode, level) as they changed

    # -- the kernel's side ---------------------------------------------------------------------------

    def request(self, offset: int, consumer: str, direction: str, bias: str | None, level: int = 0) -> None:
        """``GPIO_V2_GET_LINE_IOCTL``: EBUSY only when another requester holds the line; a muxed pin is
        taken from its bus (non-strict pinmux) and its owner stays in ``pinmux-pins``."""
        self.load()
        line = self.lines[offset]
        if line.requested:
            raise OSError(16, "Device or resource busy")
        line.consumer, line.bias = consumer, bias
        if bias is not None:
            line.pull = _BIAS_PULLS[bias]  # gpio_set_bias: only when a bias flag was asked for
        self.set_direction(offset, direction, level)

    def set_direction(self, offset: int, direction: str, level: int = 0) -> None:
        line = self.lines[offset]
        if direction == "output":  # bcm2835_gpio_direction_output: GPSET/GPCLR first, then the function
            line.level = line.latch = level
        elif direction == "input":
            line.level = int(line.outside or 0)  # an input reads what the wiring puts on it
        line.direction = line.mode = direction
        self.changed(offset)

    def write(self, offset: int, level: int) -> None:
        self.lines[offset].level = self.lines[offset].latch = level
        self.changed(offset)

    def release(self, offset: int) -> None:
        """gpiod_free_commit + bcm2835_pmx_gpio_disable_free: label and bias flags go, FLAG_IS_OUT stays;
        the pin becomes an input unless it is an output and outputs persist (Pi OS)."""
        self.load()
        line = self.lines[offset]
        line.consumer, line.bias = None, None
        if not (self.persist_outputs and line.mode == "output"):
            if line.mode == "output":
                line.level = int(line.outside or 0)
            line.mode = "input"
        self.changed(offset)

    def changed(self, offset: int) -> None:
        line = self.lines[offset]
        now = (str(line.mode), line.level)
        seen = self.history.setdefault(offset, [])
        if not seen or seen[-1] != now:
            seen.append(now)
        self.save()

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
        self.load()
        return self.info(offset)

    def info(self, offset: int) -> bytes:
        line = self.lines[offset]
        flags = parsers.LINE_FLAG_OUTPUT if line.direction == "output" else parsers.LINE_FLAG_INPUT
        if line.requested:  # a muxed pin is not "used": pinctrl_gpio_can_use_line says yes (not strict)
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

    # -- /dev/gpiomem and debugfs --------------------------------------------------------------------

    def save(self) -> None:
        if self.gpiomem is not None:
            self.gpiomem.write_bytes(self._rp1_registers() if self.label == "pinctrl-rp1" else self._bcm_registers())
        if self.debugfs is not None:
            self.debugfs.mkdir(parents=True, exist_ok=True)
            pins, pinmux = [], []
            for offset, line in sorted(self.lines.items()):
                function = {"input": "gpio_in", "output": "gpio_out"}.get(str(line.mode), line.mode)
                level = "hi" if line.level else "lo"
                pins.append(f"pin {offset} (gpio{offset}) 0:? function {function} in {level}; irq 0 (none)")
                gpio_owner = f"{self.label}:{512 + offset}" if line.requested else "(GPIO UNCLAIMED)"
                muxed = f" function {line.mode} group gpio{offset}" if line.owner else ""
                pinmux.append(f"pin {offset} (gpio{offset}): {line.owner or '(MUX UNCLAIMED)'} {gpio_owner}{muxed}")
            (self.debugfs / "pins").write_text("\n".join(pins) + "\n")
            (self.debugfs / "pinmux-pins").write_text("Pinmux settings per pin\n" + "\n".join(pinmux) + "\n")
            (self.debugfs / "pinmux-select").touch()

    def load(self) -> None:
        """Take in what was written to the registers or to ``pinmux-select`` since the last look."""
        if self.debugfs is not None and (self.debugfs / "pinmux-select").exists():
            request = (self.debugfs / "pinmux-select").read_text()
            if request:
                assert request.endswith("\n"), "pinmux_select needs its line ending (EINVAL without it)"
                group, function = request.split()
                offset = int(group.removeprefix("gpio"))
                line = self.lines[offset]
                line.mode = {"gpio_in": "input", "gpio_out": "output"}.get(function, function)
                line.level = int(line.latch or 0) if line.mode == "output" else line.level
                (self.debugfs / "pinmux-select").write_text("")
                self.changed(offset)
        if self.gpiomem is None or not self.gpiomem.exists():
            return
        data = self.gpiomem.read_bytes()
        for offset, line in self.lines.items():
            if offset >= 28:
                continue
            if self.label == "pinctrl-rp1":
                fsel = struct.unpack_from("<I", data, parsers.rp1_ctrl_offset(offset))[0] & 0x1F
                oe = struct.unpack_from("<I", data, parsers.RP1_SYS_RIO_BANK0 + 4)[0]
                # RP1 OE aliases (gpiochip_rp1.c rp1_gpio_sys_rio_oe_set/_clr): +0x2000 sets, +0x3000 clears
                oe |= struct.unpack_from("<I", data, parsers.RP1_SYS_RIO_BANK0 + 4 + parsers.RP1_SET)[0]
                oe &= ~struct.unpack_from("<I", data, parsers.RP1_SYS_RIO_BANK0 + 4 + parsers.RP1_CLR)[0]
                mode = ("output" if oe >> offset & 1 else "input") if fsel == parsers.RP1_FSEL_SYS_RIO else f"alt{fsel}"
            else:
                word = struct.unpack_from("<I", data, 4 * (offset // 10))[0]
                mode = parsers.BCM2835_FSEL_MODES[(word >> (offset % 10) * 3) & 7]
            if mode != line.mode:
                if mode == "output":
                    line.level = int(line.latch or 0)  # it drives its latch again
                elif line.mode == "output":
                    line.level = int(line.outside or 0)
                line.mode = mode
                self.changed(offset)

    def _bcm_registers(self) -> bytes:
        words = [0] * 1024  # one page, as /dev/gpiomem maps it
        pulls = {"floating": 0, "up": 1, "down": 2}
        for offset, line in self.lines.items():
            words[offset // 10] |= parsers.BCM2835_MODE_FSEL[str(line.mode)] << (offset % 10) * 3
            words[parsers.BCM2835_GPLEV0 + offset // 32] |= line.level << offset % 32
            if self.label == "pinctrl-bcm2711":
                words[parsers.BCM2711_GPPUPPDN0 + offset // 16] |= pulls[line.pull] << (offset % 16) * 2
        return struct.pack(f"<{len(words)}I", *words)

    def _rp1_registers(self) -> bytes:
        block = bytearray(parsers.RP1_SPAN)
        out = oe = sync_in = 0
        for offset, line in self.lines.items():
            if offset >= 28:
                continue
            mode = str(line.mode)
            fsel = parsers.RP1_FSEL_SYS_RIO if mode in ("input", "output") else int(mode.removeprefix("alt"))
            struct.pack_into("<I", block, parsers.rp1_ctrl_offset(offset), fsel)
            pads = parsers.RP1_PADS_IE | {"up": parsers.RP1_PADS_PUE, "down": parsers.RP1_PADS_PDE}.get(line.pull, 0)
            struct.pack_into("<I", block, parsers.rp1_pads_offset(offset), pads)
            out |= line.level << offset
            oe |= (mode == "output") << offset
            sync_in |= line.level << offset
        struct.pack_into("<III", block, parsers.RP1_SYS_RIO_BANK0, out, oe, sync_in)
        return bytes(block)


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
    module.pwm = {}  # gpio -> (micros_on, micros) while lgpio's software PWM runs on it
    bias_of = {32: "up", 64: "down", 128: "disabled", 0: None}

    def check(gpio: int) -> None:
        if gpio not in chip.lines:
            raise error(BAD_GPIO_NUMBER)

    def free(gpio: int) -> None:  # lgGpio.c xSetAsFree
        module.pwm.pop(gpio, None)  # its PWM record set inactive
        if module.modes.pop(gpio, None) is not None:
            chip.release(gpio)

    def request(gpio: int, direction: str, flags: int, level: int = 0, failure: str = GPIO_BUSY) -> None:  # xClaim
        try:
            chip.request(gpio, "lg", direction, bias_of[flags & 0xE0], level)
        except OSError:
            raise error(failure) from None  # the kernel's EBUSY: another requester, never a pinmux owner

    def claim(gpio: int, direction: str, flags: int, level: int = 0) -> None:  # xSetAsInput / xSetAsOutput
        check(gpio)
        if module.modes.get(gpio) == direction:
            return  # "nothing to do, already an input/output": flags and level ignored
        free(gpio)
        request(gpio, direction, flags, level)
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
        claim(gpio, "output", lFlags, 1 if level else 0)
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
            claim(gpio, "output", 0, 1 if level else 0)  # lgGpioWrite: "auto set output if a singleton"
        chip.write(gpio, 1 if level else 0)
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
            module.pwm.pop(gpio, None)  # lgTxPulse(0, 0): xSetAsPwm sets the record inactive
            return 0
        if pwm_frequency < 0.1 or pwm_frequency > 1e4:
            raise error(BAD_PWM_FREQ)
        if pwm_duty_cycle < 0 or pwm_duty_cycle > 100:
            raise error(BAD_PWM_DUTY)
        if module.modes.get(gpio) != "output":
            claim(gpio, "output", 0)  # xSetAsPwm sets the line as an output first
        # C floats in, ints out (lgTxPwm): the period and the high time in whole microseconds.
        frequency = struct.unpack("<f", struct.pack("<f", pwm_frequency))[0]
        duty = struct.unpack("<f", struct.pack("<f", pwm_duty_cycle))[0]
        micros = int(1.0e6 / frequency + 0.5)
        module.pwm[gpio] = (int(duty / 100.0 * micros + 0.5), micros)
        return 19  # lgTxPulse: the room left in the PWM queue

    def gpio_claim_alert(handle: int, gpio: int, eFlags: int, lFlags: int = 0, notify_handle: Any = None) -> int:
        module.calls.append(("gpio_claim_alert", gpio, eFlags, lFlags))
        check(gpio)
        free(gpio)
        request(gpio, "input", lFlags, failure=BAD_EVENT_REQUEST)  # EBUSY
        if not chip.lines[gpio].irq:
            chip.release(gpio)  # edge_detector_setup: ENXIO, the request is undone
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
