from __future__ import annotations

from tests.mqtt.conftest import broker
from tests.sensors.fake_sysfs import sysfs

__all__ = ["broker", "sysfs"]
