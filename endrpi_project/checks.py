"""Configuration problems reported as Django system checks, each with a stable id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_host_root(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    root = Path(settings.ENDRPI_HOST_ROOT)
    if not root.is_dir():
        return [
            Error(
                f"ENDRPI_HOST_ROOT ({root}) is not a directory, so no reading can work.",
                hint="Leave ENDRPI_HOST_ROOT unset on a Raspberry Pi; it defaults to /.",
                id="endrpi.E001",
            )
        ]
    if not (root / "proc").is_dir():
        return [
            Warning(
                f"ENDRPI_HOST_ROOT ({root}) has no proc/ directory; uptime and memory readings will fail.",
                hint="Point ENDRPI_HOST_ROOT at a directory holding the host's /proc and /sys.",
                id="endrpi.W001",
            )
        ]
    return []
