"""The history's tables: raw samples, their per-minute and per-ten-minute summaries, and events.

Times are integers of milliseconds since the Unix epoch (UTC). A sample's time and a summary's
start are the primary key, which SQLite keeps as the table's rowid: no second index, range scans
in time order. A reading that failed is NULL (and counts in no summary).
"""

from __future__ import annotations

from django.db import models


class Sample(models.Model):
    """One sample, taken every ``ENDRPI_HISTORY_INTERVAL`` seconds."""

    time = models.IntegerField(primary_key=True, help_text="ms since the epoch, UTC")
    temperature = models.FloatField(null=True, help_text="SoC temperature, degrees Celsius")
    arm = models.IntegerField(null=True, help_text="measured ARM clock, Hz")
    core = models.IntegerField(null=True, help_text="measured core clock, Hz")
    memory = models.IntegerField(null=True, help_text="memory available, kB")
    throttle = models.IntegerField(null=True, help_text="the firmware's get_throttled word (bits 0-3, 16-19)")

    class Meta:
        db_table = "history_sample"

    def __str__(self) -> str:
        return f"sample at {self.time}"


class Summary(models.Model):
    """Count, minimum, sum and maximum of each series over one unit of time; flags as counts set."""

    start = models.IntegerField(primary_key=True, help_text="ms since the epoch, UTC")
    samples = models.IntegerField()
    temperature_n = models.IntegerField()
    temperature_min = models.FloatField(null=True)
    temperature_sum = models.FloatField(null=True)
    temperature_max = models.FloatField(null=True)
    arm_n = models.IntegerField()
    arm_min = models.IntegerField(null=True)
    arm_sum = models.IntegerField(null=True)
    arm_max = models.IntegerField(null=True)
    core_n = models.IntegerField()
    core_min = models.IntegerField(null=True)
    core_sum = models.IntegerField(null=True)
    core_max = models.IntegerField(null=True)
    memory_n = models.IntegerField()
    memory_min = models.IntegerField(null=True)
    memory_sum = models.IntegerField(null=True)
    memory_max = models.IntegerField(null=True)
    throttle_n = models.IntegerField()
    under_voltage_detected = models.IntegerField(null=True)
    arm_frequency_capped = models.IntegerField(null=True)
    throttling = models.IntegerField(null=True)
    soft_temperature_limit_active = models.IntegerField(null=True)
    under_voltage_has_occurred = models.IntegerField(null=True)
    arm_frequency_capping_has_occurred = models.IntegerField(null=True)
    throttling_has_occurred = models.IntegerField(null=True)
    soft_temperature_limit_has_occurred = models.IntegerField(null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.samples} samples from {self.start}"


class MinuteSummary(Summary):
    class Meta:
        db_table = "history_minute"


class TenMinuteSummary(Summary):
    class Meta:
        db_table = "history_ten_minutes"


class ThrottleEvent(models.Model):
    """A throttle or under-voltage condition: from when it was seen until it ended.

    ``observed`` is false for a condition the firmware's "since boot" flag reported between two
    checks without its "now" flag ever being seen: it happened somewhere between ``start`` and
    ``end``, too briefly to be watched.
    """

    condition = models.CharField(max_length=32)
    start = models.IntegerField(db_index=True, help_text="ms since the epoch, UTC")
    end = models.IntegerField(null=True, help_text="ms since the epoch, UTC; NULL while it lasts")
    observed = models.BooleanField(default=True)

    class Meta:
        db_table = "history_event"

    def __str__(self) -> str:
        return f"{self.condition} from {self.start} to {self.end}"
