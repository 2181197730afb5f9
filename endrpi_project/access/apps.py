from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccessConfig(AppConfig):
    name = "endrpi_project.access"
    label = "access"
    verbose_name = "Access tokens"

    def ready(self) -> None:
        # Importing these registers the ENDRPI_ALLOWED_ORIGINS check (endrpi.E501) and the schema's
        # description of bearer tokens.
        from endrpi_project.access import origins, schema  # noqa: F401
        from endrpi_project.access.models import AccessToken
        from endrpi_project.access.revocation import token_watch

        # A token saved (revoked) or deleted in this process: open connections holding it hear at once.
        post_save.connect(token_watch.changed, sender=AccessToken, dispatch_uid="access-token-watch-save")
        post_delete.connect(token_watch.changed, sender=AccessToken, dispatch_uid="access-token-watch-delete")
