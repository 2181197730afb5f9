"""The admin login, limited: repeated failures per user name and per address lock it out for a while.

The limit itself (:data:`endrpi_project.access.limits.logins`) counts failures; this form applies it
before checking the password, so a locked-out name is refused even with the right password, and the
login page says what the limit is (``access/login.html``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from endrpi_project.access.limits import LOGIN_LIMIT_NOTE, logins
from endrpi_project.api.errors import LimitExceeded


class LimitedLoginForm(AdminAuthenticationForm):
    limit_note = LOGIN_LIMIT_NOTE  # shown under the form

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = str(self.request.META.get("REMOTE_ADDR", "")) if self.request is not None else ""
        try:
            logins.check(address=address, username=username)
        except LimitExceeded as error:
            raise ValidationError(error.message, code="locked_out") from None
        try:
            cleaned: dict[str, Any] = super().clean()
        except ValidationError:
            logins.failed(address=address, username=username)
            raise
        logins.succeeded(username=username)
        return cleaned


def login_limit_install(site: admin.AdminSite) -> None:
    """Use the limited form and the page that explains the limit on ``site``'s login."""
    site.login_form = LimitedLoginForm
    site.login_template = "access/login.html"
