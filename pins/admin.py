"""The admin for pin settings: labels, write locks, MQTT exposure and configurations saved for start-up.

The list shows every header GPIO (GPIO2 to GPIO27), each ready to be labelled or locked in place: the
missing rows are created, with defaults that mean "no setting", when the list is opened.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from pins import naming
from pins.models import PinSetting
from pins.services import pin_settings_create_missing


@admin.register(PinSetting)
# ModelAdmin is generic only in the stubs; it is not subscriptable at run time.
class PinSettingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    # Few, short columns so the list fits a 1366 px screen beside the admin's sidebar and filters: the pin
    # by name (its label has its own column), the three saved start-up fields as one, the two MQTT
    # switches as one (both edited on the pin's page).
    list_display = ["pin", "label", "locked", "may_take_over", "mqtt", "start_up"]
    list_editable = ["label", "locked"]
    list_filter = ["locked", "may_take_over", "io"]
    list_per_page = len(naming.USER_GPIOS)  # every header GPIO on one page
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

    @admin.display(description="MQTT")
    def mqtt(self, setting: PinSetting) -> str:
        """ "switch, binary sensor": what Home Assistant is offered for this pin; "—" for nothing."""
        offered = [
            name for name, on in (("switch", setting.mqtt_controllable), ("binary sensor", setting.mqtt_exposed)) if on
        ]
        return ", ".join(offered) or "—"

    @admin.display(description="at start-up")
    def start_up(self, setting: PinSetting) -> str:
        """ "OUTPUT 1", "INPUT UP": what the server applies at start-up; "—" leaves the pin as it is."""
        if not setting.io:
            return "—"
        if setting.state is not None:
            return f"{setting.io} {setting.state:g}"
        if setting.pull:
            return f"{setting.io} {setting.pull}"
        return setting.io

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        pin_settings_create_missing()
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Only while a header GPIO has no row yet (each pin has one row; the list creates them all)."""
        return super().has_add_permission(request) and PinSetting.objects.count() < len(naming.USER_GPIOS)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Help texts are plain text (``endrpi/<node>/pins/<pin>/set``); the admin's templates insert
        them as HTML, where ``<node>`` would be an unknown tag and vanish."""
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and formfield.help_text:
            formfield.help_text = escape(formfield.help_text)
        return formfield
