"""The eight throttle flags as the dashboard explains them: one row per condition, now and since boot,
what it means and what to do about it.

The wording follows the Raspberry Pi documentation's ``vcgencmd get_throttled`` bits (raspberrypi/
documentation, ``computers/os/vcgencmd.adoc``) and its power supply and cooling advice. The
``condition`` names are the history's event names (``GET /system/events``).
"""

from __future__ import annotations

from dataclasses import dataclass

from system.parsers import THROTTLE_CONDITIONS, ThrottleCondition


@dataclass(frozen=True)
class ThrottleRow:
    flags: ThrottleCondition
    name: str
    means: str
    todo: str

    @property
    def condition(self) -> str:
        return self.flags.name

    @property
    def now(self) -> str:  # the Throttle model's "now" field
        return self.flags.now

    @property
    def since_boot(self) -> str:  # and its "has occurred" field
        return self.flags.since_boot


_CONDITIONS = {condition.name: condition for condition in THROTTLE_CONDITIONS}


THROTTLE_ROWS = (
    ThrottleRow(
        flags=_CONDITIONS["underVoltage"],
        name="Under-voltage",
        means="The 5 V supply dipped below about 4.63 V.",
        todo="Use the official power supply, or a short, thick cable; power hungry USB devices from a powered hub.",
    ),
    ThrottleRow(
        flags=_CONDITIONS["armFrequencyCapped"],
        name="ARM frequency capped",
        means="The firmware held the ARM clock below its maximum, for heat or low voltage.",
        todo="Check the power supply first, then the cooling.",
    ),
    ThrottleRow(
        flags=_CONDITIONS["throttling"],
        name="Throttled",
        means="The firmware slowed the SoC to protect it (80 °C, 85 °C on a Pi 5, or under-voltage).",
        todo="Give it a heatsink or fan and a case with airflow; check the supply if it is not hot.",
    ),
    ThrottleRow(
        flags=_CONDITIONS["softTemperatureLimit"],
        name="Soft temperature limit",
        means="The SoC passed the firmware's soft limit (temp_soft_limit, 60 °C by default) and runs slower.",
        todo="Improve the cooling, or raise temp_soft_limit in config.txt (at most 70 °C).",
    ),
)
