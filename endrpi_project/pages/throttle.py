"""The eight throttle flags as the dashboard explains them: one row per condition, now and since boot,
what it means and what to do about it.

The wording follows the Raspberry Pi documentation's ``vcgencmd get_throttled`` bits (raspberrypi/
documentation, ``computers/os/vcgencmd.adoc``) and its power supply and cooling advice. The
``condition`` names are the history's event names (``GET /system/events``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottleRow:
    condition: str
    name: str
    now: str  # the Throttle model's "now" field
    since_boot: str  # and its "has occurred" field
    means: str
    todo: str


THROTTLE_ROWS = (
    ThrottleRow(
        condition="underVoltage",
        name="Under-voltage",
        now="underVoltageDetected",
        since_boot="underVoltageHasOccurred",
        means="The 5 V supply dipped below about 4.63 V.",
        todo="Use the official power supply, or a short, thick cable; power hungry USB devices from a powered hub.",
    ),
    ThrottleRow(
        condition="armFrequencyCapped",
        name="ARM frequency capped",
        now="armFrequencyCapped",
        since_boot="armFrequencyCappingHasOccurred",
        means="The firmware held the ARM clock below its maximum, for heat or low voltage.",
        todo="Check the power supply first, then the cooling.",
    ),
    ThrottleRow(
        condition="throttling",
        name="Throttled",
        now="throttling",
        since_boot="throttlingHasOccurred",
        means="The firmware slowed the SoC to protect it (80 °C, 85 °C on a Pi 5, or under-voltage).",
        todo="Give it a heatsink or fan and a case with airflow; check the supply if it is not hot.",
    ),
    ThrottleRow(
        condition="softTemperatureLimit",
        name="Soft temperature limit",
        now="softTemperatureLimitActive",
        since_boot="softTemperatureLimitHasOccurred",
        means="The SoC passed the firmware's soft limit (temp_soft_limit, 60 °C by default) and runs slower.",
        todo="Improve the cooling, or raise temp_soft_limit in config.txt (at most 70 °C).",
    ),
)
