from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


def _write_ahead_log(*, connection: Any, **kwargs: Any) -> None:
    """SQLite in WAL mode: a write is appended and committed atomically, so a power cut mid-write
    leaves the database as it was before that transaction (and readers never wait for the writer)."""
    if connection.vendor == "sqlite" and settings.DATABASE_READ_ONLY is None:  # read-only: nothing to write
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")


class HistoryConfig(AppConfig):
    name = "endrpi_project.history"
    label = "history"
    verbose_name = "History"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_write_ahead_log, dispatch_uid="history-wal")
