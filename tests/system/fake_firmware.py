"""A fake VideoCore firmware behind fake mailbox devices, modelling what the real pieces do.

It implements :class:`system.hardware.firmware.MailboxDevice` by reading the bytes it is sent as
the kernel and the firmware do, and answers in the same bytes. Each behaviour below names its source:

- ``/dev/vcio`` takes any tag; ``/dev/vcio_gencmd`` only ``0x00030080`` and fails anything else with
  ``EPERM``; a buffer whose size word is under 12 fails with ``EINVAL``; a request the firmware
  refuses fails the ioctl with ``EINVAL`` (it never reaches user space as a status word). The devices
  are made by ``vcio_probe``; ``vcio_gencmd`` exists only on kernels from mid-2026.
  (raspberrypi/linux ``drivers/char/broadcom/vcio.c``: ``vcio_user_property_list``,
  ``vcio_check_tags``, ``vcio_gencmd_tags``, ``vcio_probe``; ``drivers/firmware/raspberrypi.c``:
  ``rpi_firmware_property_list``, which turns a status other than success into ``-EINVAL``.)
- A firmware that does not answer makes the ioctl fail with ``ETIMEDOUT`` after one second (``HZ``),
  and every transaction waits for the one before it behind one mutex (raspberrypi/linux
  ``drivers/firmware/raspberrypi.c``: ``rpi_firmware_transaction``, ``transaction_lock``).
- The throttle word: bits 0-3 are live, bits 16-19 sticky ("has occurred") (raspberrypi/linux
  ``include/soc/bcm2835/raspberrypi-firmware.h``, ``RPI_FIRMWARE_GET_THROTTLED``, and the commit that
  added it: "lower 16-bits are the live value, upper 16-bits are the history or sticky value").
- The property tag ``0x00030046`` answers from the sticky bits the kernel's ``raspberrypi-hwmon``
  driver clears: it asks the tag with ``0xffff`` ("Request firmware to clear sticky bits") 2 seconds
  after it probes and every 2 seconds after that (raspberrypi/linux ``drivers/hwmon/raspberrypi-hwmon.c``:
  ``rpi_firmware_get_throttled``, ``get_values_poll``, ``rpi_hwmon_probe``). :meth:`advance` runs
  that poll on a simulated clock. The value asked with is the mask of sticky bits to clear.
- The text command ``get_throttled`` (the gencmd tag ``0x00030080``) answers ``throttled=0x...`` from
  the firmware's own sticky bits, kept since boot (raspberrypi/documentation, the vcgencmd section of
  ``documentation/asciidoc/computers/os/``: ``get_throttled``'s bit table); ``measure_clock arm``
  answers ``frequency(48)=<hertz>`` and ``measure_clock core`` ``frequency(1)=<hertz>``; an unknown
  command answers a non-zero error word and no text (vcgencmd prints it as
  ``vc_gencmd_read_response returned N``). The error word sits before the text and the text room is
  the value size the request declares (raspberrypi/utils ``vcgencmd/vcgencmd.c``, ``gencmd``).
- The property tag ``0x00030047`` answers ``[clock id, hertz]`` for the clock id asked (ARM 3,
  core 4) (raspberrypi/firmware wiki "Mailbox property interface", Get clock rate measured).
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
from pathlib import Path

from system import parsers
from system.hardware import firmware

TAG_GENCMD = parsers.TAG_GET_GENCMD_RESULT
VCIO_GENCMD_TAGS = frozenset({TAG_GENCMD})  # vcio.c vcio_gencmd_tags
LIVE_BITS = 0x000F
STICKY_SHIFT = 16
HWMON_POLL_SECONDS = 2.0  # raspberrypi-hwmon.c: schedule_delayed_work(..., 2 * HZ)
HWMON_CLEAR_MASK = 0xFFFF  # raspberrypi-hwmon.c: value = 0xffff
FIRMWARE_TIMEOUT_SECONDS = 1.0  # raspberrypi.c rpi_firmware_transaction: wait_for_completion_timeout(HZ)
CLOCK_IDS = {3: "arm", 4: "core"}
GENCMD_CLOCK_NUMBERS = {"arm": 48, "core": 1}


def _oserror(code: int, path: Path) -> OSError:
    return OSError(code, os.strerror(code), str(path))


class FakeVideoCore:
    """The firmware and the kernel's mailbox devices; ``calls`` records (device, tag) of each ioctl.

    ``devices`` are the device names that exist (``vcio`` always on a Pi, ``vcio_gencmd`` on kernels
    from mid-2026). ``refuse`` maps a device to the errno its open fails with (``EACCES`` for a user
    outside the ``video`` group). :meth:`hang` makes the firmware stop answering until :meth:`answer_again`.
    """

    def __init__(
        self,
        *,
        devices: tuple[str, ...] = ("vcio",),
        arm_hertz: int = 1_500_398_464,
        core_hertz: int = 500_000_992,
        hang_seconds: float = FIRMWARE_TIMEOUT_SECONDS,
    ) -> None:
        self.devices = set(devices)
        self.knows_gencmd = True  # False: a firmware from before the gencmd tag (it refuses it)
        self.refuse: dict[str, int] = {}
        self.clocks = {"arm": arm_hertz, "core": core_hertz}
        self.live = 0
        self.sticky_since_boot = 0  # the gencmd command's own sticky bits
        self.sticky_property = 0  # the property tag's, cleared by the hwmon poll
        self.now = 0.0
        self._next_poll = HWMON_POLL_SECONDS
        self.calls: list[tuple[str, int]] = []
        self.hang_seconds = hang_seconds
        self._answering = threading.Event()
        self._answering.set()
        self._transaction_lock = threading.Lock()

    # --- what happens on the board ---------------------------------------------------------

    def set_live(self, bits: int) -> None:
        """The live conditions now (bits 0-3); each one also sets its sticky bit in both sets."""
        self.live = bits & LIVE_BITS
        self.sticky_since_boot |= self.live << STICKY_SHIFT
        self.sticky_property |= self.live << STICKY_SHIFT

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: the hwmon driver polls every 2 s, clearing the property's sticky bits."""
        end = self.now + seconds
        while self._next_poll <= end:
            self.now = self._next_poll
            self._hwmon_poll()
            self._next_poll += HWMON_POLL_SECONDS
        self.now = end

    def _hwmon_poll(self) -> None:
        # raspberrypi-hwmon.c rpi_firmware_get_throttled: the property tag asked with 0xffff.
        self._get_throttled_property(HWMON_CLEAR_MASK)

    def hang(self) -> None:
        """The firmware stops answering: each call fails with ETIMEDOUT after ``hang_seconds``."""
        self._answering.clear()

    def answer_again(self) -> None:
        self._answering.set()

    # --- the firmware ----------------------------------------------------------------------

    def _get_throttled_property(self, clear_mask: int) -> int:
        word = self.live | self.sticky_property
        self.sticky_property &= ~((clear_mask & 0xFFFF) << STICKY_SHIFT)
        self.sticky_property |= self.live << STICKY_SHIFT  # a condition still live stays sticky
        return word

    def _gencmd(self, command: str) -> tuple[int, str]:
        words = command.split()
        if words == ["get_throttled"]:
            return 0, f"throttled={self.live | self.sticky_since_boot:#x}"
        if len(words) == 2 and words[0] == "measure_clock" and words[1] in self.clocks:
            return 0, f"frequency({GENCMD_CLOCK_NUMBERS[words[1]]})={self.clocks[words[1]]}"
        return 255, ""

    def _property(self, tag: int, value_size: int, values: tuple[int, ...]) -> tuple[int, ...] | None:
        if tag == parsers.TAG_GET_THROTTLED and value_size >= 4:
            return (self._get_throttled_property(values[0]),)
        if tag == parsers.TAG_GET_CLOCK_MEASURED and value_size >= 8:
            clock = CLOCK_IDS.get(values[0])
            return (values[0], self.clocks[clock] if clock else 0)
        return None

    # --- the kernel's mailbox devices (MailboxDevice) ----------------------------------------

    def call(self, path: Path, buffer: bytes) -> bytes:
        device = path.name
        if device not in self.devices:
            raise _oserror(errno.ENOENT, path)
        if device in self.refuse:
            raise _oserror(self.refuse[device], path)
        (size,) = struct.unpack_from("<I", buffer)
        if size < 12 or size > len(buffer) or size % 4:
            raise _oserror(errno.EINVAL, path)
        words = list(struct.unpack_from(f"<{size // 4}I", buffer))
        tag, value_size = words[2], words[3]
        self.calls.append((device, tag))
        if device == "vcio_gencmd" and tag not in VCIO_GENCMD_TAGS:
            raise _oserror(errno.EPERM, path)  # vcio_check_tags
        if 20 + value_size > size - 4:
            raise _oserror(errno.EINVAL, path)  # vcio_check_tags: val_size past the buffer
        with self._transaction_lock:  # raspberrypi.c transaction_lock
            if not self._answering.wait(self.hang_seconds):
                raise _oserror(errno.ETIMEDOUT, path)
            answer = bytearray(buffer[:size])
            if tag == TAG_GENCMD and not self.knows_gencmd:
                raise _oserror(errno.EINVAL, path)  # rpi_firmware_property_list: status != success
            if tag == TAG_GENCMD:
                error, text = self._gencmd(answer[24 : 24 + value_size].split(b"\0", 1)[0].decode("ascii"))
                encoded = text.encode()[: value_size - 1]
                struct.pack_into("<II", answer, 16, parsers.TAG_RESPONSE | (len(encoded) + 5), error)
                answer[24 : 24 + value_size] = encoded.ljust(value_size, b"\0")
            else:
                count = value_size // 4
                values = struct.unpack_from(f"<{count}I", answer, 20) if count else ()
                result = self._property(tag, value_size, values)
                if result is None:
                    raise _oserror(errno.EINVAL, path)  # rpi_firmware_property_list: status != success
                struct.pack_into("<I", answer, 16, parsers.TAG_RESPONSE | 4 * len(result))
                struct.pack_into(f"<{len(result)}I", answer, 20, *result)
            struct.pack_into("<I", answer, 4, parsers.MAILBOX_SUCCESS)
            return bytes(answer)


def firmware_calls_settle(timeout: float = 10) -> None:
    """Wait until no firmware call is in flight, so the next test does not share a call of this one."""
    deadline = time.monotonic() + timeout
    while firmware.firmware_calls.in_flight():
        if time.monotonic() > deadline:
            raise AssertionError(f"firmware calls still in flight: {firmware.firmware_calls.in_flight()}")
        time.sleep(0.01)
