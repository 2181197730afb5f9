"""A firmware source that answered once and later fails: the next one answers, the failing one is
asked again after a short while (not at every reading), and a better source that comes back wins.

Against the fake VideoCore (``tests/system/fake_firmware.py``) and the fake ``vcgencmd``
(``tests/conftest.py``, raspberrypi/utils ``vcgencmd/vcgencmd.c``), with a clock the test moves.
"""

from __future__ import annotations

import errno

import pytest

from endrpi_project.api.errors import ReadingFailed
from system import parsers, services
from system.hardware import firmware
from tests.system.fake_firmware import FakeVideoCore, firmware_calls_settle

BOOKWORM = "6.6.51+rpt-rpi-v8\n"
GENCMD = parsers.TAG_GET_GENCMD_RESULT


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def videocore(host_root):
    """A Pi whose kernel has /dev/vcio_gencmd and /dev/vcio; a firmware call times out after 10 ms."""
    fake = FakeVideoCore(devices=("vcio_gencmd", "vcio"), hang_seconds=0.01)
    host_root.write(firmware.KERNEL_RELEASE, BOOKWORM)
    previous = firmware.install_mailbox_device(fake)
    yield fake
    fake.answer_again()
    firmware_calls_settle()
    firmware.install_mailbox_device(previous)


@pytest.fixture
def no_vcgencmd(settings):
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def build(host_root, settings, clock):
    """A firmware client as the server builds it, on the test's clock."""

    def build(device: firmware.MailboxDevice) -> firmware.Firmware:
        sources = firmware.firmware_sources(
            root=host_root.root, device=device, vcgencmd=settings.ENDRPI_VCGENCMD, timeout=5
        )
        return firmware.Firmware(sources, clock=clock)

    return build


def asked(videocore: FakeVideoCore, device: str) -> int:
    return sum(1 for name, _ in videocore.calls if name == device)


def test_a_source_that_answered_and_then_refuses_access_falls_back_in_the_same_reading(videocore, no_vcgencmd):
    assert services.throttle_read().history_window == "SINCE_BOOT"
    assert firmware.get_firmware().source_for("throttled") == "vcio_gencmd"
    videocore.refuse["vcio_gencmd"] = errno.EACCES  # e.g. its udev rule changed
    throttle = services.throttle_read()
    assert throttle.history_window == "SINCE_BOOT"
    assert firmware.get_firmware().source_for("throttled") == "vcio"
    assert services.frequency_read().arm.quantity == 1_500_398_464


def test_a_failing_source_is_asked_again_only_after_a_while_and_wins_again_once_it_answers(
    videocore, no_vcgencmd, build, clock
):
    client = build(videocore)
    client.get_throttled()
    assert client.source_for("throttled") == "vcio_gencmd"
    videocore.devices.discard("vcio_gencmd")  # the device went away
    for _ in range(5):
        assert client.get_throttled().since_boot
    assert client.source_for("throttled") == "vcio"
    assert asked(videocore, "vcio_gencmd") == 1, "tried once when it went away, not at every reading"
    clock.advance(firmware.RETRY_SECONDS)
    client.get_throttled()
    client.get_throttled()
    assert asked(videocore, "vcio_gencmd") == 1, "a missing device fails before the ioctl"
    assert client.source_for("throttled") == "vcio"
    videocore.devices.add("vcio_gencmd")
    client.get_throttled()
    assert client.source_for("throttled") == "vcio", "not before its time is up"
    clock.advance(firmware.RETRY_SECONDS)
    client.get_throttled()
    assert client.source_for("throttled") == "vcio_gencmd", "the better source is preferred again"
    assert videocore.calls[-1] == ("vcio_gencmd", GENCMD)


def test_a_firmware_that_stops_answering_fails_readings_without_asking_each_source_every_time(
    videocore, no_vcgencmd, build, clock
):
    client = build(videocore)
    client.get_throttled()
    videocore.hang()
    failures = []
    for _ in range(6):
        with pytest.raises(firmware.FirmwareError) as raised:
            client.get_throttled()
        failures.append(str(raised.value))
    assert "Connection timed out" in failures[0] or "timed out" in failures[0]
    # Each failing source was asked once; afterwards every one is set aside and nothing is asked.
    assert (asked(videocore, "vcio_gencmd"), asked(videocore, "vcio")) == (2, 2)
    assert failures[-1].startswith("no firmware source answered (vcio_gencmd: ")
    assert "asked again in 10 s" in failures[-1]
    videocore.answer_again()
    clock.advance(firmware.RETRY_SECONDS)
    assert client.get_throttled().since_boot
    assert client.source_for("throttled") == "vcio_gencmd"


def test_vcgencmd_that_could_open_no_device_falls_through_to_sysfs(videocore, vcgencmd, host_root):
    """vcgencmd.c mbox_open: exit status 255 means it could open neither device, not a final answer."""
    host_root.write(firmware.KERNEL_RELEASE, "4.14.98-v7+\n")
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50000\n")
    videocore.refuse.update({"vcio_gencmd": errno.EACCES, "vcio": errno.EACCES})
    vcgencmd.answer(fail="no_device")
    throttle = services.throttle_read()
    assert throttle.throttling_has_occurred
    assert throttle.history_window == "LAST_2_SECONDS"
    assert firmware.get_firmware().source_for("throttled") == "sysfs"


def test_vcgencmd_exiting_255_still_lets_the_property_tag_answer(videocore, vcgencmd):
    videocore.devices.discard("vcio_gencmd")
    videocore.knows_gencmd = False
    vcgencmd.answer(fail=True)
    assert services.throttle_read().history_window == "LAST_2_SECONDS"
    assert firmware.get_firmware().source_for("throttled") == "vcio_property"
    assert services.frequency_read().core.quantity == 500_000_992


def test_a_firmware_without_text_commands_through_vcgencmd_falls_through_to_the_property_tag(videocore, vcgencmd):
    """vcgencmd.c: a failed ioctl prints ``ioctl_set_msg failed:-1`` and the command it sent, exit 0."""
    videocore.devices.discard("vcio_gencmd")
    videocore.knows_gencmd = False
    vcgencmd.answer(fail="ioctl")
    videocore.set_live(0x4)
    throttle = services.throttle_read()
    assert throttle.throttling
    assert throttle.history_window == "LAST_2_SECONDS"
    assert firmware.get_firmware().source_for("throttled") == "vcio_property"


def test_vcgencmd_is_not_started_again_while_a_device_answers(videocore, vcgencmd, build, clock):
    videocore.devices.discard("vcio_gencmd")
    videocore.knows_gencmd = False
    vcgencmd.answer(fail="ioctl")
    client = build(videocore)
    for _ in range(3):
        client.get_throttled()
        clock.advance(firmware.RETRY_SECONDS)
    assert client.source_for("throttled") == "vcio_property"
    assert vcgencmd.runs == ["get_throttled"], "one process, when no device had answered yet"
    assert asked(videocore, "vcio") == 6, "the text command on vcio is retried each period (one ioctl)"


def test_every_reason_is_in_the_failed_reading_when_vcgencmd_and_the_devices_fail(videocore, vcgencmd):
    videocore.refuse.update({"vcio_gencmd": errno.EACCES, "vcio": errno.EACCES})
    vcgencmd.answer(fail=True)
    with pytest.raises(ReadingFailed) as raised:
        services.throttle_read()
    message = raised.value.message
    assert "vcgencmd get_throttled failed: Can't open device file: /dev/vcio_gencmd (exit status 255)" in message
    assert "vcio_property: " in message
    assert "sysfs: not read on kernel 6.6.51" in message
