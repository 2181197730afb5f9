"""The admin for pin settings: labels, write locks, MQTT exposure and configurations saved for start-up."""

from __future__ import annotations

from django.contrib import admin

from pins.models import PinSetting


@admin.register(PinSetting)
# ModelAdmin is generic only in the stubs; it is not subscriptable at run time.
class PinSettingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "__str__",
        "label",
        "locked",
        "may_take_over",
        "mqtt_controllable",
        "mqtt_exposed",
        "io",
        "state",
        "pull",
    ]
    list_editable = ["label", "locked", "mqtt_controllable", "mqtt_exposed"]
    list_filter = ["locked", "may_take_over", "io"]
    fieldsets = [
        (None, {"fields": ["pin", "label", "locked", "may_take_over"]}),
        ("MQTT and Home Assistant", {"fields": ["mqtt_controllable", "mqtt_exposed"]}),
        (
            "Configuration applied at start-up",
            {
                "fields": ["io", "state", "pull"],
                "description": "INPUT needs a pull; OUTPUT needs a state. Takes effect when the server next starts.",
            },
        ),
    ]
