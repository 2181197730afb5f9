"""HTTP routes. The WebSocket endpoint shares ``/`` with HTTP; see ``endrpi_project.routing``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("system.urls")),
    path("", include("pins.urls")),
]

handler404 = "endrpi_project.views.not_found"
handler500 = "endrpi_project.views.internal_error"
