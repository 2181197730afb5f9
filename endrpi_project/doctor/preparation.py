"""Getting a host ready to serve: the database migrated and the static files collected, only when needed.

``scripts/serve`` and the service start the server through ``manage.py endrpi_serve --prepare``, which
calls :func:`host_prepare` in the server's own process before daphne starts. Each step is skipped when
its inputs have not changed, so a restart costs two cheap checks instead of two Django commands:

- **the database**: ``migrate`` runs when a migration on disk is not recorded as applied in the
  database (what ``migrate --check`` asks, answered from the migration folders' file names and the
  ``django_migrations`` table, without loading the migration graph). A new database has none applied.
- **the static files** (the dashboard's, the admin's, Swagger UI's): ``collectstatic`` runs when the
  files the finders list (their names, sizes and modification times) differ from those of the last
  collection, whose fingerprint is kept in ``STATIC_ROOT``. Collected files win over the apps' copies
  (:mod:`endrpi_project.http.static`), so a changed input must never be left uncollected.

Each step says what it does before it starts (it can take a while on a Pi), through ``say``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pkgutil
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# Where the fingerprint of the collected static files' inputs is kept (in STATIC_ROOT, so that
# removing the collected files removes it too).
STATIC_STAMP = ".endrpi-static-inputs"


def database_unapplied_migrations() -> list[str]:
    """``app.migration`` for each migration on disk that the database has not recorded as applied.

    Django's loader finds migrations as the modules of each app's migrations package whose names do
    not start with ``_`` or ``~`` (``MigrationLoader.load_disk``); the same rule is read here from the
    folder, without importing the migrations themselves.
    """
    on_disk: set[tuple[str, str]] = set()
    for app_config in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
        if module_name is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue  # an app without migrations
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            if not info.ispkg and info.name[0] not in "_~":
                on_disk.add((app_config.label, info.name))
    applied = set(MigrationRecorder(connection).applied_migrations())
    return sorted(f"{app}.{name}" for app, name in on_disk - applied)


def static_inputs_fingerprint() -> str:
    """A digest of every file the static finders list: its name, where it is, its size and mtime."""
    digest = hashlib.sha256(str(settings.STORAGES["staticfiles"]["BACKEND"]).encode())
    listed = []
    for finder in finders.get_finders():
        for name, storage in finder.list([]):
            path = storage.path(name)
            status = os.stat(path)
            listed.append(f"{name}\0{path}\0{status.st_size}\0{status.st_mtime_ns}")
    for line in sorted(listed):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def static_collected_fingerprint() -> str | None:
    """The fingerprint recorded by the last complete collection, or ``None``."""
    try:
        return (Path(settings.STATIC_ROOT) / STATIC_STAMP).read_text().strip()
    except OSError:
        return None


def host_prepare(*, say: Callable[[str], None]) -> list[str]:
    """Migrate and collect what has changed since the last start; return the steps that ran."""
    done = []
    unapplied = database_unapplied_migrations()
    if unapplied:
        say(
            f"Setting up the database ({len(unapplied)} migration{'s' if len(unapplied) != 1 else ''}) "
            f"in {settings.DATABASES['default']['NAME']}..."
        )
        call_command("migrate", interactive=False, verbosity=0)
        done.append("migrate")
    fingerprint = static_inputs_fingerprint()
    if fingerprint != static_collected_fingerprint():
        say(f"Collecting and compressing the pages' static files into {settings.STATIC_ROOT}...")
        call_command("collectstatic", interactive=False, verbosity=0)
        # Written last: a collection cut short is done again at the next start.
        (Path(settings.STATIC_ROOT) / STATIC_STAMP).write_text(fingerprint + "\n")
        done.append("collectstatic")
    connection.close()  # opened in this thread for the checks; the server opens its own
    return done
