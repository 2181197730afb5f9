from __future__ import annotations

from tests.sensors.fake_sysfs import sysfs

__all__ = ["sysfs"]
