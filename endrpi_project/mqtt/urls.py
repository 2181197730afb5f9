from __future__ import annotations

from django.urls import re_path

from endrpi_project.mqtt import views

urlpatterns = [
    re_path(r"^fleet/?$", views.FleetView.as_view(), name="fleet"),
]
