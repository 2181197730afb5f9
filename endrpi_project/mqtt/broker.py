"""The broker's address and credentials, from ``ENDRPI_MQTT_URL`` (already checked by the settings)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None

    def __str__(self) -> str:
        """The address for logs: never the password."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context for ``mqtts``: the CA file if given, else the system's CAs; host names checked.

        Loading certificates reads files, so call this off the event loop.
        """
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=self.ca_file or None)


def broker_from_url(url: str, *, ca_file: str = "") -> Broker:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return Broker(
        host=parts.hostname or "",
        port=parts.port or DEFAULT_PORTS[scheme],
        tls=scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        ca_file=ca_file or None,
    )
