"""A restart does not migrate or collect again: each preparation step runs only when its inputs changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from endrpi_project.doctor import preparation


@pytest.fixture
def commands(monkeypatch) -> list[str]:
    """The management commands preparation runs, recorded instead of run (collectstatic still writes
    STATIC_ROOT, as the real one does, so the stamp has a folder to go in)."""
    ran: list[str] = []

    def call_command(name: str, **options: object) -> None:
        ran.append(name)
        if name == "collectstatic":
            Path(django_settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(preparation, "call_command", call_command)
    return ran


@pytest.fixture
def static_inputs(tmp_path: Path, settings) -> Path:
    """A static folder of our own among the finders' (STATICFILES_DIRS), and STATIC_ROOT in tmp_path.
    (Django's setting_changed receiver forgets the finders built for the old folders.)"""
    folder = tmp_path / "static-in"
    (folder / "extra").mkdir(parents=True)
    (folder / "extra" / "one.css").write_text("body {}\n")
    settings.STATICFILES_DIRS = [str(folder)]
    settings.STATIC_ROOT = str(tmp_path / "static-out")
    return folder


@pytest.mark.django_db
def test_a_second_start_neither_migrates_nor_collects(commands, static_inputs):
    assert preparation.host_prepare(say=lambda line: None) == ["collectstatic"]  # the test database is migrated
    assert preparation.host_prepare(say=lambda line: None) == []
    assert commands == ["collectstatic"]


@pytest.mark.django_db
def test_a_changed_or_new_static_file_is_collected_again(commands, static_inputs):
    preparation.host_prepare(say=lambda line: None)
    (static_inputs / "extra" / "two.js").write_text("// new\n")
    assert preparation.host_prepare(say=lambda line: None) == ["collectstatic"]
    (static_inputs / "extra" / "one.css").write_text("body { color: red }\n")
    assert preparation.host_prepare(say=lambda line: None) == ["collectstatic"]
    assert preparation.host_prepare(say=lambda line: None) == []


@pytest.mark.django_db
def test_a_collection_cut_short_is_done_again(commands, static_inputs):
    preparation.host_prepare(say=lambda line: None)
    (Path(django_settings.STATIC_ROOT) / preparation.STATIC_STAMP).unlink()
    assert preparation.host_prepare(say=lambda line: None) == ["collectstatic"]


@pytest.mark.django_db
def test_a_migration_the_database_has_not_applied_is_migrated_and_said(commands, static_inputs):
    preparation.host_prepare(say=lambda line: None)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'pins' AND name = '0002_pinsetting_mqtt'")
    assert preparation.database_unapplied_migrations() == ["pins.0002_pinsetting_mqtt"]
    said: list[str] = []
    assert preparation.host_prepare(say=said.append) == ["migrate"]
    assert said == [f"Setting up the database (1 migration) in {connection.settings_dict['NAME']}..."]


@pytest.mark.django_db
def test_every_migration_on_disk_is_seen_as_the_migration_loader_sees_it():
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    assert preparation.database_unapplied_migrations() == []
    on_disk = {f"{app}.{name}" for app, name in loader.disk_migrations}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations")
    assert set(preparation.database_unapplied_migrations()) == on_disk
