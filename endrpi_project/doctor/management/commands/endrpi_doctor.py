"""``manage.py endrpi_doctor``: the report a Pi owner pastes into a bug report (exit 1 on a problem)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from endrpi_project.doctor.report import doctor_report


class Command(BaseCommand):
    help = (
        "Print the board, kernel, OS, pin factory and header chip, the firmware sources and what each said, "
        "users, groups and device permissions, the settings in force (secrets hidden) and whether the port "
        "is free. Exits 0 when everything a Pi owner needs works, 1 otherwise. Writes nothing."
    )
    # The report runs the system checks itself and lists them; a failing check must not stop it.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        report = doctor_report()
        self.stdout.write(report.text())
        if not report.ok:
            raise SystemExit(1)
