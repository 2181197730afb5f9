from __future__ import annotations

from django.urls import re_path

from system.sensors import views

# Answers with and without a trailing slash, as every route of the API does.
urlpatterns = [
    re_path(r"^system/sensors/(?P<sensor_id>[^/]+)/?$", views.SensorView.as_view(), name="system-sensor"),
]
