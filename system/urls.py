"""``/system`` and one route per declared reading (``/system/temperature``, ...), from the declarations."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from endrpi_project.readings.registry import reading_table
from system import views


def reading_urlpatterns() -> list[URLPattern]:
    # Each route answers with and without a trailing slash, as clients of the original do both.
    patterns = [re_path(r"^system/?$", views.system_view().as_view(), name="system")]
    for reading in reading_table().readings:
        view = views.reading_view(reading)
        patterns.append(re_path(rf"^system/{reading.key}/?$", view.as_view(), name=f"system-{reading.key}"))
    return patterns


urlpatterns = reading_urlpatterns()
