"""HTTP routes. The WebSocket endpoint shares ``/`` with HTTP; see ``endrpi_project.routing``."""

from __future__ import annotations

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from endrpi_project.api.schema import SchemaView
from endrpi_project.pages import views

admin.site.site_header = "Endrpi settings"
admin.site.site_title = "Endrpi"
admin.site.index_title = "Labels, locks and saved pin configurations"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Browsers ask for /favicon.ico on pages that name no icon (admin, browsable API).
    # GET and HEAD only (RedirectView would redirect a PUT too); it changes nothing, so no CSRF check.
    path(
        "favicon.ico",
        csrf_exempt(
            RedirectView.as_view(
                url=lazy(static, str)("endrpi/favicon.svg"), http_method_names=["get", "head", "options"]
            )
        ),
    ),
    path("admin/", admin.site.urls),
    path("api/schema", SchemaView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("docs/websocket", views.websocket_docs, name="websocket-docs"),
    path("", include("system.urls")),
    path("", include("system.sensors.urls")),
    path("", include("pins.urls")),
    path("", include("endrpi_project.history.urls")),
    path("", include("endrpi_project.metrics.urls")),
    path("", include("endrpi_project.mqtt.urls")),
]

handler400 = "endrpi_project.api.errors.bad_request"
handler404 = "endrpi_project.pages.views.not_found"
handler500 = "endrpi_project.api.errors.internal_error"
