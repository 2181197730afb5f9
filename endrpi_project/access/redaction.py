"""Access tokens kept out of the logs: daphne's access log and every Python log record.

A client may send its token in a URL (``?token=`` is how a WebSocket can carry it, and some send it
to REST the same way), and daphne writes each request's full URL to its access log. Two places see
to it that no secret is written:

- :class:`RedactSecretsFilter`, on the log handler in ``settings.LOGGING``, rewrites any record
  (Django's, daphne's, ours) whose message holds a token;
- :func:`access_log_redact` makes daphne's command line build its access log with
  :class:`RedactingAccessLogGenerator`. daphne has no setting for this: ``daphne.cli`` looks the
  class up by name when it starts the server, after importing the application, so the ASGI module
  calls this while it is imported. ``tests/security/test_redaction.py`` fails if daphne changes that.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime

from daphne.access import AccessLogGenerator

# How a token looks wherever it travels (endrpi_project.access.tokens makes and reads them so). Here,
# not there, because the log configuration imports this module before Django's models are ready.
TOKEN_PREFIX = "endrpi_"
SUBPROTOCOL_PREFIX = "endrpi.token."
REDACTED = "[redacted]"

_SECRETS = re.compile(
    r"(?P<query>[?&;](?:access_)?token=)[^&;#\s\"']*"  # ?token=..., &access_token=...
    rf"|(?P<protocol>{re.escape(SUBPROTOCOL_PREFIX)})[^\s,;\"']+"  # endrpi.token.<secret>
    rf"|(?P<bare>{re.escape(TOKEN_PREFIX)})[A-Za-z0-9_-]{{16,}}",  # endrpi_<secret>, wherever it appears
    re.IGNORECASE,
)


def secrets_redact(text: str) -> str:
    """``text`` with every access token replaced by ``[redacted]`` (the part that names it is kept)."""

    def keep_the_name(match: re.Match[str]) -> str:
        name = match.group("query") or match.group("protocol") or match.group("bare")
        return f"{name}{REDACTED}"

    return _SECRETS.sub(keep_the_name, text)


class RedactSecretsFilter(logging.Filter):
    """A handler filter: a record whose message holds a token is written with the token redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report, as without this filter
            return True
        redacted = secrets_redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RedactingAccessLogGenerator(AccessLogGenerator):
    """daphne's NCSA-style access log, with tokens in request lines redacted."""

    def write_entry(
        self,
        host: str,
        date: datetime,
        request: str,
        status: int | None = None,
        length: int | None = None,
        ident: str | None = None,
        user: str | None = None,
    ) -> None:
        super().write_entry(host, date, secrets_redact(request), status, length, ident, user)


def access_log_redact() -> bool:
    """When daphne's command line is starting this application, have it write a redacted access log.

    Returns whether daphne's command line was there (not under a test client or another server).
    """
    cli = sys.modules.get("daphne.cli")
    if cli is None:
        return False
    vars(cli)["AccessLogGenerator"] = RedactingAccessLogGenerator
    return True
