"""The access token table moved from the endrpi_project app to the access app without losing a token."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from endrpi_project.access.models import AccessToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_database_from_before_the_move_keeps_its_tokens():
    # The database as the old layout left it: the table under its old name, with a token in it, the
    # content type under the old app, and the access app's migration not yet applied.
    with connection.schema_editor() as editor:
        editor.alter_db_table(AccessToken, "access_accesstoken", "endrpi_project_accesstoken")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO endrpi_project_accesstoken (name, scope, prefix, secret_hash, created) "
            "VALUES ('dashboard', 'read-write', 'endrpi_abcdef', 'f00d', '2026-11-01 00:00:00')"
        )
    ContentType.objects.filter(app_label="access", model="accesstoken").update(app_label="endrpi_project")
    MigrationRecorder(connection).record_unapplied("access", "0001_access_token")

    call_command("migrate", "access", verbosity=0)

    token = AccessToken.objects.get(name="dashboard")
    assert (token.scope, token.secret_hash) == ("read-write", "f00d")
    assert "endrpi_project_accesstoken" not in connection.introspection.table_names()
    assert ContentType.objects.filter(app_label="access", model="accesstoken").exists()
    assert not ContentType.objects.filter(app_label="endrpi_project", model="accesstoken").exists()


def test_a_new_database_gets_the_table_under_the_access_app():
    assert "access_accesstoken" in connection.introspection.table_names()
