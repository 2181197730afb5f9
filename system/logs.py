"""Keeping expected reading failures out of Django's "Internal Server Error" log.

A reading this machine cannot take (no firmware off a Pi, say) answers 500 with its message, as
the API promises. Django's handler logs every 5xx answer at ERROR on the ``django.request`` logger
(``django.core.handlers.base.BaseHandler.get_response`` calls ``django.utils.log.log_response``),
which on a machine without firmware would mean an error line for every dashboard refresh. The
reading views mark the request of such an answer, and :class:`ExpectedFailureFilter`, installed on
that logger when the app is ready, drops the record for a marked request. Django documents the
logger and the ``request`` and ``status_code`` it puts on each record; nothing private is used.
What cannot be read is logged once, as a warning, at start-up (``system.services.system_start``).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

REQUEST_LOGGER = "django.request"
_MARK = "endrpi_expected_failure"


def mark_expected_failure(request: HttpRequest) -> None:
    """Say that this request's 5xx answer is an expected reading failure, not a server error."""
    setattr(request, _MARK, True)


class ExpectedFailureFilter(logging.Filter):
    """Drops ``django.request`` records about a request marked by :func:`mark_expected_failure`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(getattr(record, "request", None), _MARK, False)


def expected_failures_quiet() -> None:
    """Install the filter on Django's request logger, once."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if not any(isinstance(existing, ExpectedFailureFilter) for existing in logger.filters):
        logger.addFilter(ExpectedFailureFilter())
