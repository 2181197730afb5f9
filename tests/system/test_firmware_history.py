"""Throttle history means "since boot": the sources against a fake firmware that behaves like the real one.

The fake (``tests/system/fake_firmware.py``) keeps the text command's sticky bits since boot and
clears the property tag's every 2 s, as the kernel's hwmon driver does. So a brown-out a while ago
shows through the text command and not through the tag: asking the tag first again fails here.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from endrpi_project.api.errors import ReadingFailed
from system import parsers, services
from system.hardware import firmware, host
from tests.system.fake_firmware import FakeVideoCore, firmware_calls_settle

UNDER_VOLTAGE = 0x1
BOOKWORM = "6.6.51+rpt-rpi-v8\n"


@pytest.fixture
def videocore(host_root):
    """A Pi on Raspberry Pi OS Bookworm: /dev/vcio only, kernel 6.6, no vcgencmd on the path."""
    fake = FakeVideoCore(devices=("vcio",))
    host_root.write(firmware.KERNEL_RELEASE, BOOKWORM)
    previous = firmware.install_mailbox_device(fake)
    yield fake
    fake.answer_again()
    firmware_calls_settle()
    firmware.install_mailbox_device(previous)


@pytest.fixture
def no_vcgencmd(settings):
    settings.ENDRPI_VCGENCMD = "/nonexistent/vcgencmd"


def brown_out_a_minute_ago(videocore: FakeVideoCore) -> None:
    videocore.set_live(UNDER_VOLTAGE)
    videocore.advance(1)
    videocore.set_live(0)
    videocore.advance(60)


def test_a_brown_out_a_minute_ago_is_reported_through_the_text_command_on_vcio(videocore, no_vcgencmd):
    brown_out_a_minute_ago(videocore)
    throttle = services.throttle_read()
    assert not throttle.under_voltage_detected
    assert throttle.under_voltage_has_occurred
    assert throttle.history_window == "SINCE_BOOT"
    assert videocore.calls[-1] == ("vcio", parsers.TAG_GET_GENCMD_RESULT)
    assert firmware.get_firmware().source_for("throttled") == "vcio"


def test_the_property_tag_has_forgotten_the_same_brown_out(videocore):
    # What the fake models, shown directly: the hwmon poll cleared the tag's sticky bits.
    brown_out_a_minute_ago(videocore)
    answer = firmware.PropertyTagSource(Path("/dev/vcio"), videocore).get_throttled()
    assert answer.word & (UNDER_VOLTAGE << 16) == 0
    assert not answer.since_boot


def test_the_property_tag_keeps_a_brown_out_until_the_next_hwmon_poll(videocore):
    videocore.advance(0.5)
    videocore.set_live(UNDER_VOLTAGE)
    videocore.set_live(0)
    source = firmware.PropertyTagSource(Path("/dev/vcio"), videocore)
    assert source.get_throttled().word == UNDER_VOLTAGE << 16
    videocore.advance(2)
    assert source.get_throttled().word == 0


def test_throttling_asks_every_text_command_source_before_the_property_tag():
    assert firmware.ORDER["throttled"].index("vcgencmd") < firmware.ORDER["throttled"].index("vcio_property")
    assert firmware.ORDER["throttled"][:2] == ("vcio_gencmd", "vcio")
    assert firmware.ORDER["throttled"][-1] == "sysfs"


def test_vcio_gencmd_is_asked_first_where_the_kernel_has_it(videocore, no_vcgencmd):
    videocore.devices.add("vcio_gencmd")
    brown_out_a_minute_ago(videocore)
    assert services.throttle_read().under_voltage_has_occurred
    assert videocore.calls == [("vcio_gencmd", parsers.TAG_GET_GENCMD_RESULT)]


def test_vcio_gencmd_refuses_every_other_tag_as_the_kernel_does(videocore):
    videocore.devices.add("vcio_gencmd")
    with pytest.raises(OSError, match="Operation not permitted") as refused:
        videocore.call(Path("/dev/vcio_gencmd"), parsers.mailbox_request(parsers.TAG_GET_THROTTLED, [0]))
    assert refused.value.errno == errno.EPERM


def test_a_user_outside_the_video_group_falls_through_to_vcgencmd(videocore, vcgencmd):
    videocore.refuse["vcio"] = errno.EACCES
    vcgencmd.answer(throttled="0x10000")
    throttle = services.throttle_read()
    assert throttle.under_voltage_has_occurred
    assert throttle.history_window == "SINCE_BOOT"
    assert firmware.get_firmware().source_for("throttled") == "vcgencmd"


def test_only_the_property_tag_answers_and_the_answer_says_it_covers_2_seconds(videocore, no_vcgencmd):
    videocore.knows_gencmd = False  # a firmware from before the gencmd tag
    videocore.set_live(UNDER_VOLTAGE)
    throttle = services.throttle_read()
    assert throttle.under_voltage_detected
    assert throttle.history_window == "LAST_2_SECONDS"
    assert firmware.get_firmware().source_for("throttled") == "vcio_property"


def test_the_rest_answer_carries_the_history_window(videocore, no_vcgencmd, client, db):
    brown_out_a_minute_ago(videocore)
    body = client.get("/system/throttle", HTTP_ACCEPT="application/json").json()
    assert body["underVoltageHasOccurred"] is True
    assert body["historyWindow"] == "SINCE_BOOT"


# --- the gencmd buffer ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["get_throttled", "measure_clock arm", "measure_clock core"])
def test_every_gencmd_buffer_is_at_most_1024_bytes(command):
    buffer = parsers.gencmd_request(command)
    assert len(buffer) <= 1024
    assert len(buffer) == parsers.MAILBOX_BUFFER_MAX
    # vcgencmd's layout: size, request, tag, text room, 0, error word, the text, the end tag.
    assert int.from_bytes(buffer[12:16], "little") == len(buffer) - 28
    assert buffer[24 : 24 + len(command)] == command.encode()


def test_the_real_device_layer_hands_ioctl_at_most_1024_bytes(tmp_path, monkeypatch):
    sizes: list[int] = []

    def ioctl(fd, request, buffer, mutate):
        sizes.append(len(buffer))
        assert mutate is True
        return 0

    monkeypatch.setattr("system.hardware.host.fcntl.ioctl", ioctl)
    device = tmp_path / "vcio"
    device.write_bytes(b"")
    source = firmware.GencmdSource("vcio", device, firmware.VcioDevice())
    with pytest.raises(firmware.FirmwareUnavailable):  # the answer is the request back: not answered
        source.get_throttled()
    assert sizes == [1024]


def test_the_real_device_layer_refuses_a_buffer_over_1024_bytes(tmp_path):
    with pytest.raises(ValueError, match="at most 1024"):
        firmware.VcioDevice().call(tmp_path / "vcio", bytes(1028))


# --- sysfs, only where it does not warn -----------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "warns"),
    [
        ("6.6.51+rpt-rpi-v8", True),
        ("6.12.25+rpt-rpi-2712", True),
        ("5.10.63-v7l+", True),
        ("4.19.114-v7", True),
        ("4.14.98-v7+", False),
        ("4.9.80-v7+", False),
        ("", True),
        ("garbage", True),
    ],
)
def test_sysfs_get_throttled_warns_from_kernel_4_19(release, warns):
    assert firmware.sysfs_throttled_warns(release) is warns


def test_sysfs_is_never_opened_on_a_kernel_where_it_warns(host_root, no_vcgencmd, monkeypatch):
    host_root.write(firmware.KERNEL_RELEASE, BOOKWORM)
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    opened: list[str] = []
    real_read = host.read_host_file

    def read(relative):
        opened.append(relative)
        return real_read(relative)

    monkeypatch.setattr(firmware, "read_host_file", read)
    with pytest.raises(ReadingFailed, match="warning with a backtrace"):
        services.throttle_read()
    assert all("get_throttled" not in path for path in opened)


def test_sysfs_is_not_read_when_the_kernel_release_is_unknown(host_root, no_vcgencmd):
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    with pytest.raises(ReadingFailed, match="kernel release unknown"):
        services.throttle_read()


def test_sysfs_answers_on_an_old_kernel_and_says_it_covers_2_seconds(host_root, no_vcgencmd):
    host_root.write(firmware.KERNEL_RELEASE, "4.14.98-v7+\n")
    host_root.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
    throttle = services.throttle_read()
    assert throttle.under_voltage_detected
    assert throttle.history_window == "LAST_2_SECONDS"


# --- for the doctor ------------------------------------------------------------------------------


def test_the_sources_report_says_who_answered_and_what_each_earlier_source_said(videocore, no_vcgencmd):
    brown_out_a_minute_ago(videocore)
    reports = services.firmware_sources_report()
    assert [report.question for report in reports] == ["get_throttled", "measure_clock arm", "measure_clock core"]
    throttled = reports[0]
    assert throttled.answered_by == "vcio"
    assert [said.source for said in throttled.said] == ["vcio_gencmd", "vcio"]
    assert not throttled.said[0].answered
    assert "No such file or directory" in throttled.said[0].said
    assert throttled.said[1].said == "throttled=0x10000, sticky bits since boot"
    assert reports[1].answered_by == "vcio"
    assert reports[1].said[-1].said == "1500398464 Hz"


def test_the_sources_report_lists_every_source_when_none_answers(host_root, no_vcgencmd):
    host_root.write(firmware.KERNEL_RELEASE, BOOKWORM)
    throttled = services.firmware_sources_report()[0]
    assert throttled.answered_by is None
    assert [said.source for said in throttled.said] == ["vcio_gencmd", "vcio", "vcgencmd", "vcio_property", "sysfs"]
    assert all(not said.answered for said in throttled.said)
