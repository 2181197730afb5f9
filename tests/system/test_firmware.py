"""Each firmware source against fakes: a mailbox device that checks the exact bytes, a sysfs tree."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from endrpi_project.api.errors import ReadingFailed
from system import parsers, services
from system.hardware import firmware
from tests.system.test_mailbox_parsers import (
    ARM_CLOCK_REPLY,
    ARM_CLOCK_REQUEST,
    CORE_CLOCK_REPLY,
    CORE_CLOCK_REQUEST,
    THROTTLE_REPLY_50005,
    THROTTLE_REQUEST,
    gencmd_reply,
    hexbytes,
)


class FakeMailbox:
    """The mailbox ioctl, faked: answers recorded replies to exact request bytes, per device name.

    A device that is not listed does not exist (ENOENT); one listed in ``refuse`` fails with that
    errno. A text command (gencmd tag) no reply was recorded for fails with EINVAL, as the kernel
    answers for a tag the firmware refuses (raspberrypi/linux ``drivers/firmware/raspberrypi.c``,
    ``rpi_firmware_property_list``): a firmware from before the gencmd tag. Any other request with
    bytes no reply was recorded for fails the test.
    """

    def __init__(self) -> None:
        self.replies: dict[tuple[str, bytes], bytes] = {}
        self.refuse: dict[str, int] = {}
        self.sent: list[tuple[str, bytes]] = []

    def answer(self, device: str, request: bytes, reply: bytes) -> None:
        self.replies[(device, request)] = reply

    def call(self, path: Path, buffer: bytes) -> bytes:
        self.sent.append((path.name, buffer))
        if path.name in self.refuse:
            code = self.refuse[path.name]
            raise OSError(code, os.strerror(code), str(path))
        if not any(device == path.name for device, _ in self.replies):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        try:
            return self.replies[(path.name, buffer)]
        except KeyError:
            if buffer[8:12] == parsers.TAG_GET_GENCMD_RESULT.to_bytes(4, "little"):
                raise OSError(errno.EINVAL, "Invalid argument", str(path)) from None
            raise AssertionError(f"unexpected bytes sent to {path.name}: {buffer[:48].hex()}") from None


@pytest.fixture
def mailbox():
    fake = FakeMailbox()
    previous = firmware.install_mailbox_device(fake)
    yield fake
    firmware.install_mailbox_device(previous)


@pytest.fixture
def no_vcgencmd(settings):
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"


def answer_gencmd(
    mailbox,
    throttled="throttled=0x50005",
    arm="frequency(48)=1500398464",
    core="frequency(1)=5",
    device="vcio_gencmd",
):
    for command, text in [("get_throttled", throttled), ("measure_clock arm", arm), ("measure_clock core", core)]:
        mailbox.answer(device, parsers.gencmd_request(command), gencmd_reply(text))


@pytest.fixture
def old_kernel(host_root):
    """A kernel from before 4.19, whose sysfs get_throttled does not warn when read."""
    host_root.write(firmware.KERNEL_RELEASE, "4.14.98-v7+\n")


def answer_property_tags(mailbox):
    mailbox.answer("vcio", hexbytes(THROTTLE_REQUEST), hexbytes(THROTTLE_REPLY_50005))
    mailbox.answer("vcio", hexbytes(ARM_CLOCK_REQUEST), hexbytes(ARM_CLOCK_REPLY))
    mailbox.answer("vcio", hexbytes(CORE_CLOCK_REQUEST), hexbytes(CORE_CLOCK_REPLY))


def test_vcio_gencmd_answers_first_without_a_process(mailbox, no_vcgencmd):
    answer_gencmd(mailbox)
    answer_property_tags(mailbox)
    throttle = services.throttle_read()
    frequency = services.frequency_read()
    assert throttle.under_voltage_detected
    assert throttle.throttling_has_occurred
    assert frequency.arm.quantity == 1500398464
    assert frequency.core.quantity == 5
    assert {device for device, _ in mailbox.sent} == {"vcio_gencmd"}
    assert [buffer[24:48].rstrip(b"\0") for _, buffer in mailbox.sent] == [
        b"get_throttled",
        b"measure_clock arm",
        b"measure_clock core",
    ]
    assert firmware.get_firmware().source_name == "vcio_gencmd"


def test_the_device_paths_are_below_the_host_root(mailbox, host_root, no_vcgencmd):
    seen: list[Path] = []
    real_call = mailbox.call

    def call(path, buffer):
        seen.append(path)
        return real_call(path, buffer)

    mailbox.call = call
    answer_gencmd(mailbox)
    services.throttle_read()
    assert seen == [host_root.root / "dev/vcio_gencmd"]


def test_the_text_commands_go_to_vcio_when_vcio_gencmd_is_absent(mailbox, no_vcgencmd):
    answer_gencmd(mailbox, device="vcio")
    answer_property_tags(mailbox)
    assert services.throttle_read().throttling
    assert services.frequency_read().core.quantity == 5
    assert [device for device, _ in mailbox.sent] == ["vcio_gencmd", "vcio", "vcio_gencmd", "vcio", "vcio"]
    assert all(len(buffer) == 1024 for _, buffer in mailbox.sent)
    assert firmware.get_firmware().source_for("throttled") == "vcio"
    assert firmware.get_firmware().source_for("clock") == "vcio"


def test_the_property_tags_answer_when_the_firmware_knows_no_text_commands(mailbox, no_vcgencmd):
    answer_property_tags(mailbox)
    throttle = services.throttle_read()
    assert throttle.throttling
    assert throttle.history_window == "LAST_2_SECONDS"
    frequency = services.frequency_read()
    assert (frequency.arm.quantity, frequency.core.quantity) == (1500398464, 500000992)
    assert [buffer.hex() for device, buffer in mailbox.sent if device == "vcio" and len(buffer) < 1024] == [
        hexbytes(request).hex() for request in (THROTTLE_REQUEST, ARM_CLOCK_REQUEST, CORE_CLOCK_REQUEST)
    ]
    assert firmware.get_firmware().source_for("clock") == "vcio_property"


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_a_permission_error_falls_through_to_the_next_source(mailbox, no_vcgencmd, code):
    answer_gencmd(mailbox)
    answer_gencmd(mailbox, device="vcio")
    mailbox.refuse["vcio_gencmd"] = code
    assert services.throttle_read().under_voltage_has_occurred
    assert firmware.get_firmware().source_name == "vcio"


def test_a_firmware_error_answer_on_vcio_gencmd_falls_through(mailbox, no_vcgencmd):
    mailbox.answer("vcio_gencmd", parsers.gencmd_request("get_throttled"), gencmd_reply("", error=1))
    answer_property_tags(mailbox)
    assert services.throttle_read().throttling
    assert firmware.get_firmware().source_name == "vcio_property"


def test_a_tag_the_firmware_refuses_falls_through_to_sysfs(mailbox, host_root, no_vcgencmd, old_kernel):
    refused = bytearray(hexbytes(THROTTLE_REPLY_50005))
    refused[4:8] = (0x80000001).to_bytes(4, "little")
    mailbox.answer("vcio", hexbytes(THROTTLE_REQUEST), bytes(refused))
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50000\n")
    throttle = services.throttle_read()
    assert not throttle.throttling
    assert throttle.throttling_has_occurred
    assert firmware.get_firmware().source_name == "sysfs"


def test_sysfs_answers_throttling_when_no_device_is_there(host_root, no_vcgencmd, old_kernel):
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    assert services.throttle_read().under_voltage_detected


def test_sysfs_is_found_under_another_bus_name(host_root, no_vcgencmd, old_kernel):
    host_root.write("sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled", "4\n")
    assert services.throttle_read().throttling


def test_vcgencmd_answers_throttling_before_sysfs_for_its_since_boot_history(host_root, vcgencmd, old_kernel):
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "0\n")
    vcgencmd.answer(throttled="0x10000", arm=1200000000, core=400000000)
    throttle = services.throttle_read()
    assert throttle.under_voltage_has_occurred
    assert throttle.history_window == "SINCE_BOOT"
    assert services.frequency_read().arm.quantity == 1200000000
    assert firmware.get_firmware().source_for("throttled") == "vcgencmd"
    assert firmware.get_firmware().source_for("clock") == "vcgencmd"


def test_no_process_is_spawned_once_a_device_answers(mailbox, vcgencmd, monkeypatch):
    answer_gencmd(mailbox)

    def no_processes(*args, **kwargs):
        raise AssertionError("a reading spawned a process")

    monkeypatch.setattr("system.hardware.firmware.subprocess.run", no_processes)
    for _ in range(3):
        services.throttle_read()
        services.frequency_read()


def test_vcgencmd_answers_when_no_device_does(vcgencmd):
    vcgencmd.answer(throttled="0x4")
    assert services.throttle_read().throttling
    assert firmware.get_firmware().source_name == "vcgencmd"


def test_the_working_source_is_remembered(mailbox, no_vcgencmd):
    answer_property_tags(mailbox)
    services.throttle_read()
    services.throttle_read()
    # vcio_gencmd is absent, vcio refuses the text command (an old firmware), its property tag answers.
    assert [device for device, _ in mailbox.sent] == ["vcio_gencmd", "vcio", "vcio", "vcio"]


def test_every_source_failing_is_a_clear_failed_reading(mailbox, no_vcgencmd):
    mailbox.refuse["vcio"] = errno.EACCES
    with pytest.raises(ReadingFailed) as failure:
        services.throttle_read()
    message = failure.value.message
    assert message.startswith("Failed to query system throttle status: no firmware source answered")
    for reason in (
        "vcio_gencmd: ",
        "No such file",
        "vcio: ",
        "Permission denied",
        "vcio_property: ",
        "sysfs: ",
        "vcgencmd: ",
    ):
        assert reason in message


def test_a_garbled_device_answer_is_a_failed_reading(mailbox, no_vcgencmd):
    answer_gencmd(mailbox, throttled="banana")
    with pytest.raises(ReadingFailed, match="unexpected firmware answer"):
        services.throttle_read()


def test_a_clock_answer_for_another_clock_is_a_failed_reading(mailbox, no_vcgencmd):
    mailbox.answer("vcio", hexbytes(ARM_CLOCK_REQUEST), hexbytes(CORE_CLOCK_REPLY))
    with pytest.raises(ReadingFailed, match="answered clock 4"):
        services.frequency_read()


def test_an_unexpected_device_error_is_a_failed_reading_not_a_fallback(mailbox, vcgencmd):
    answer_gencmd(mailbox)
    mailbox.refuse["vcio_gencmd"] = errno.EIO
    with pytest.raises(ReadingFailed, match="Input/output error"):
        services.throttle_read()


def test_the_real_device_layer_reports_a_missing_device_as_unavailable(tmp_path):
    source = firmware.PropertyTagSource(tmp_path / "vcio", firmware.VcioDevice())
    with pytest.raises(firmware.FirmwareUnavailable, match="No such file"):
        source.get_throttled()


def test_the_real_device_layer_treats_a_plain_file_as_no_mailbox(tmp_path):
    plain = tmp_path / "vcio"
    plain.write_bytes(b"")
    source = firmware.GencmdSource("vcio_gencmd", plain, firmware.VcioDevice())
    with pytest.raises(firmware.FirmwareUnavailable):
        source.get_throttled()
