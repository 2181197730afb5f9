"""GET /system/platform names the board from the device tree, or null where there is none."""

from __future__ import annotations

import json

from system import services


def test_the_platform_names_the_board_from_the_device_tree(host_root):
    (host_root.root / "proc/device-tree").mkdir(parents=True)
    (host_root.root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    assert services.platform_read().model == "Raspberry Pi 4 Model B Rev 1.4"


def test_the_model_is_null_off_a_pi():
    assert services.platform_read().model is None


def test_rest_platform_reports_the_model_as_an_extra_field(client, host_root):
    (host_root.root / "proc/device-tree").mkdir(parents=True)
    (host_root.root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    body = json.loads(client.get("/system/platform").content)
    assert body["model"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert {"machineType", "networkName", "operatingSystem"} <= set(body)


def test_rest_platform_model_is_null_without_a_device_tree(client):
    assert json.loads(client.get("/system/platform").content)["model"] is None


def test_system_carries_the_model_inside_platform(client, host_root):
    host_root.write("proc/device-tree/model", "Raspberry Pi Zero 2 W Rev 1.0\x00")
    assert json.loads(client.get("/system").content)["platform"]["model"] == "Raspberry Pi Zero 2 W Rev 1.0"
