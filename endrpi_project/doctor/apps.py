from __future__ import annotations

from django.apps import AppConfig


class DoctorConfig(AppConfig):
    name = "endrpi_project.doctor"
    label = "doctor"
    verbose_name = "Serving and doctor"
