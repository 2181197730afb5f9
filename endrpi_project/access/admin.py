"""Access tokens in the Django admin: create one (its secret is shown once), see when it was used, revoke it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from endrpi_project.access.login import login_limit_install
from endrpi_project.access.models import AccessToken
from endrpi_project.access.tokens import access_token_create, access_token_revoke

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AccessToken]
else:  # ModelAdmin is generic only to the type checker
    _ModelAdmin = admin.ModelAdmin


@admin.register(AccessToken)
class AccessTokenAdmin(_ModelAdmin):
    list_display = ["name", "scope", "prefix", "created", "last_used", "revoked"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created", "last_used"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: AccessToken | None = None) -> tuple[str, ...]:
        if obj is None:  # the secret is generated on save and shown once, in a message
            return ("name", "scope")
        return ("name", "scope", "prefix", "created", "last_used", "revoked")

    def save_model(self, request: HttpRequest, obj: AccessToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, secret = access_token_create(name=obj.name, scope=obj.scope)
        obj.pk = token.pk
        obj.prefix, obj.secret_hash, obj.created = token.prefix, token.secret_hash, token.created
        messages.warning(
            request,
            f"Access token '{token.name}' created. Copy it now, it is not shown again: {secret}",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        active = list(queryset.filter(revoked__isnull=True))
        for token in active:
            access_token_revoke(name=token.name)
        self.message_user(request, f"Revoked {len(active)} token(s).", messages.SUCCESS)


login_limit_install(admin.site)
