from __future__ import annotations

from django.urls import re_path

from system import views

# Each route answers with and without a trailing slash, as clients of the original do both.
urlpatterns = [
    re_path(r"^system/?$", views.SystemView.as_view(), name="system"),
    re_path(r"^system/platform/?$", views.PlatformView.as_view(), name="system-platform"),
    re_path(r"^system/temperature/?$", views.TemperatureView.as_view(), name="system-temperature"),
    re_path(r"^system/throttle/?$", views.ThrottleView.as_view(), name="system-throttle"),
    re_path(r"^system/uptime/?$", views.UptimeView.as_view(), name="system-uptime"),
    re_path(r"^system/frequency/?$", views.FrequencyView.as_view(), name="system-frequency"),
    re_path(r"^system/memory/?$", views.MemoryView.as_view(), name="system-memory"),
]
