"""``manage.py endrpi_token create NAME [--scope read|read-write] | list | revoke NAME`` for headless setups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from endrpi_project.access.models import AccessToken
from endrpi_project.access.tokens import access_token_create, access_token_revoke
from endrpi_project.api.errors import EndrpiError


class Command(BaseCommand):
    help = "Create, list and revoke Endrpi access tokens (see docs/security.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Create a token and print its secret once.")
        create.add_argument("name")
        create.add_argument("--scope", choices=AccessToken.Scope.values, default=AccessToken.Scope.READ)
        commands.add_parser("list", help="List tokens (never their secrets).")
        revoke = commands.add_parser("revoke", help="Revoke a token by name.")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            {"create": self.create, "list": self.list, "revoke": self.revoke}[options["command"]](options)
        except EndrpiError as error:
            raise CommandError(error.message) from None

    def create(self, options: dict[str, Any]) -> None:
        token, secret = access_token_create(name=options["name"], scope=options["scope"])
        self.stderr.write(f"Created access token '{token.name}' ({token.scope}). It is shown only now:")
        self.stdout.write(secret)

    def list(self, options: dict[str, Any]) -> None:
        for token in AccessToken.objects.all():
            used = token.last_used.isoformat(timespec="seconds") if token.last_used else "never"
            state = f"revoked {token.revoked.isoformat(timespec='seconds')}" if token.revoked else "active"
            self.stdout.write(f"{token.name}\t{token.scope}\t{token.prefix}…\tlast used {used}\t{state}")

    def revoke(self, options: dict[str, Any]) -> None:
        token = access_token_revoke(name=options["name"])
        self.stdout.write(f"Revoked access token '{token.name}'")
