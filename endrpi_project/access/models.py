"""Endrpi's own database tables: the access tokens of ``docs/security.md``."""

from __future__ import annotations

from django.db import models


class AccessToken(models.Model):
    """A secret a client presents to read or drive the Pi when ``ENDRPI_AUTH`` asks for one.

    Only the SHA-256 of the secret is stored; the secret itself is shown once, when it is created.
    ``prefix`` is the secret's first characters, enough to tell tokens apart in a list.
    """

    class Scope(models.TextChoices):
        READ = "read", "read"
        READ_WRITE = "read-write", "read-write"

    name = models.CharField(max_length=100, unique=True, help_text="Who or what uses this token, e.g. 'dashboard'.")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, help_text="When the token stopped working; empty if active.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE

    @property
    def is_active(self) -> bool:
        return self.revoked is None
