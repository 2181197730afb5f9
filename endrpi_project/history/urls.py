from __future__ import annotations

from django.urls import re_path

from endrpi_project.history import views

urlpatterns = [
    re_path(r"^system/history/?$", views.HistoryView.as_view(), name="system-history"),
    re_path(r"^system/events/?$", views.EventsView.as_view(), name="system-events"),
]
