from __future__ import annotations

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "endrpi_project.metrics"
    label = "metrics"
    verbose_name = "Prometheus metrics"
