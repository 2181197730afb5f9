from __future__ import annotations

from django.urls import path

from endrpi_project.metrics import views

urlpatterns = [path("metrics", views.MetricsView.as_view(), name="metrics")]
