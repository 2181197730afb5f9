"""The pin settings admin: every header GPIO listed, ready to label or lock; help texts shown as written."""

from __future__ import annotations

import re

import pytest

from pins import naming, services
from pins.models import PinSetting

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/pins/pinsetting/"


def listed_pins(page: str) -> list[str]:
    """The pins of the changelist's rows, in order (each row links to its change page by pin name)."""
    return re.findall(r'<th class="field-pin"><a href="[^"]+">(GPIO\d+)', page)


def test_the_list_shows_all_26_header_pins_from_an_empty_database(admin_client):
    assert PinSetting.objects.count() == 0
    page = admin_client.get(CHANGELIST).content.decode()
    assert listed_pins(page) == [naming.pin_name(pin) for pin in naming.USER_GPIOS]
    assert len(listed_pins(page)) == 26
    assert 'name="form-25-label"' in page  # each row's label and lock editable in the list
    assert 'name="form-25-locked"' in page


def test_listing_keeps_what_was_set_and_creates_rows_only_once(admin_client):
    PinSetting.objects.create(pin=17, label="Garage relay", locked=True)
    admin_client.get(CHANGELIST)
    admin_client.get(CHANGELIST)
    assert PinSetting.objects.count() == 26
    kept = PinSetting.objects.get(pin=17)
    assert (kept.label, kept.locked) == ("Garage relay", True)


def test_a_listed_pin_without_settings_behaves_as_before(admin_client):
    admin_client.get(CHANGELIST)
    services.pin_settings_forget()
    assert services.pin_label(pin=5) is None
    wire = services.pin_settings_wire()
    assert wire["GPIO5"] == {"label": None, "locked": False}
    assert PinSetting.objects.get(pin=5).saved_change() is None


def test_a_pin_is_labelled_and_locked_from_the_list(admin_client):
    page = admin_client.get(CHANGELIST).content.decode()
    form = {
        "form-TOTAL_FORMS": "26",
        "form-INITIAL_FORMS": "26",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    ids = re.findall(r'name="form-(\d+)-id" value="(\d+)"', page)
    for index, row_id in ids:
        setting = PinSetting.objects.get(id=row_id)
        form[f"form-{index}-id"] = row_id
        form[f"form-{index}-label"] = "Doorbell" if setting.pin == 4 else setting.label
        if setting.pin == 4:
            form[f"form-{index}-locked"] = "on"
    response = admin_client.post(CHANGELIST, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    doorbell = PinSetting.objects.get(pin=4)
    assert (doorbell.label, doorbell.locked) == ("Doorbell", True)


def test_no_add_button_once_every_pin_is_listed(admin_client):
    assert admin_client.get("/admin/pins/pinsetting/add/").status_code == 200
    page = admin_client.get(CHANGELIST).content.decode()
    assert "/admin/pins/pinsetting/add/" not in page
    assert admin_client.get("/admin/pins/pinsetting/add/").status_code == 403


def test_the_mqtt_help_text_shows_its_topic_with_node_and_pin(admin_client):
    setting = PinSetting.objects.create(pin=17)
    page = admin_client.get(f"/admin/pins/pinsetting/{setting.id}/change/").content.decode()
    assert "endrpi/&lt;node&gt;/pins/&lt;pin&gt;/set" in page  # a browser shows endrpi/<node>/pins/<pin>/set
    assert "<node>" not in page
    assert "e.g. &quot;Garage relay&quot;" in page  # quotes shown as quotes
