from __future__ import annotations

from django.urls import re_path

from pins import views

urlpatterns = [
    re_path(r"^pins/?$", views.PinListView.as_view(), name="pins"),
    re_path(r"^pins/(?P<pin_id>[^/]+)/?$", views.PinDetailView.as_view(), name="pin-detail"),
]
