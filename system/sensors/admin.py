"""The admin for the Pi's own sensors: give each a label (rows appear as sensors are found)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from system.sensors.models import SensorSetting


@admin.register(SensorSetting)
# ModelAdmin is generic only in the stubs; it is not subscriptable at run time.
class SensorSettingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["sensor_id", "name", "kind", "label"]
    list_editable = ["label"]
    list_filter = ["kind"]
    readonly_fields = ["sensor_id", "name", "kind"]
    fields = ["sensor_id", "name", "kind", "label"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # rows come from the sensors found
        return False
