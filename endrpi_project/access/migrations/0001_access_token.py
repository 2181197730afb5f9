"""The access token table.

Tokens were first kept by the ``endrpi_project`` app (table ``endrpi_project_accesstoken``). This
migration adopts that table when a database has it, renaming it and keeping every token, and
creates the table otherwise; the old app's content type moves along so admin permissions stay.
"""

from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OLD_TABLE = "endrpi_project_accesstoken"


class CreateOrAdoptModel(migrations.CreateModel):
    """``CreateModel``, except that an existing table of the old app is renamed instead of created."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if OLD_TABLE in schema_editor.connection.introspection.table_names():
            schema_editor.alter_db_table(model, OLD_TABLE, model._meta.db_table)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)


def move_content_type(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="access", model="accesstoken").exists():
        content_type.objects.filter(app_label="endrpi_project", model="accesstoken").update(app_label="access")


class Migration(migrations.Migration):
    initial = True

    dependencies = [("contenttypes", "0002_remove_content_type_name")]

    operations = [
        CreateOrAdoptModel(
            name="AccessToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "name",
                    models.CharField(
                        help_text="Who or what uses this token, e.g. 'dashboard'.", max_length=100, unique=True
                    ),
                ),
                (
                    "scope",
                    models.CharField(
                        choices=[("read", "read"), ("read-write", "read-write")], default="read", max_length=10
                    ),
                ),
                ("prefix", models.CharField(editable=False, max_length=16)),
                ("secret_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("last_used", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "revoked",
                    models.DateTimeField(
                        blank=True, help_text="When the token stopped working; empty if active.", null=True
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
