"""The operator's names for the Pi's own sensors, kept in the admin.

A row is made when a sensor is first found (so the admin lists every sensor the Pi has seen, with
the kernel's name for it), keyed by the sensor's stable id; the operator only sets its label. A
sensor that is unplugged keeps its row and its label for when it comes back.
"""

from __future__ import annotations

from django.db import models


class SensorSetting(models.Model):
    sensor_id = models.CharField(
        "sensor id",
        max_length=160,
        unique=True,
        help_text="Built from the kernel's names (1-wire serial, or chip and device), stable across reboots.",
    )
    name = models.CharField(
        "kernel's name",
        max_length=160,
        help_text='What the kernel calls it, e.g. "28-0316a2797f7f" or "bme280 humidity".',
    )
    kind = models.CharField(max_length=16, help_text="temperature, humidity, pressure or fan.")
    label = models.CharField(
        max_length=64,
        blank=True,
        help_text='Shown by the dashboard, returned by the API and announced to Home Assistant, e.g. "Greenhouse".',
    )

    class Meta:
        ordering = ["sensor_id"]
        verbose_name = "sensor"

    def __str__(self) -> str:
        return self.label or self.name
