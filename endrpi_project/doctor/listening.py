"""Where the server listens, from settings: one rule for ``scripts/serve``, the service and the doctor.

daphne listens through a Twisted endpoint description: ``tcp:port=5000:interface=0.0.0.0`` for HTTP,
or, with ``ENDRPI_TLS_CERT`` and ``ENDRPI_TLS_KEY``, Twisted's ``ssl:`` endpoint
(``twisted/internet/endpoints.py``, ``_parseSSL``: ``privateKey`` and ``certKey`` are PEM files) so
the same port speaks HTTPS and ``wss://`` with no proxy in front. The TLS files are checked before
listening, so a wrong path or a key that does not belong to the certificate stops start-up with a
message naming the setting instead of a Twisted traceback.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from endrpi_project.doctor import host as this_host

WILDCARDS = {"", "0.0.0.0", "::"}


class TlsError(Exception):
    """A TLS setting names a file that cannot serve HTTPS; the message names the setting."""


@dataclass(frozen=True)
class Listening:
    """Where the server listens: one address and port, with TLS or without."""

    host: str
    port: int
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def wildcard(self) -> bool:
        return self.host in WILDCARDS


def listening_from_settings() -> Listening:
    """``ENDRPI_HOST`` (empty: every IPv4 address), ``ENDRPI_PORT``, ``ENDRPI_TLS_CERT`` and ``ENDRPI_TLS_KEY``."""
    return Listening(
        host=settings.ENDRPI_HOST.strip().strip("[]") or "0.0.0.0",
        port=settings.ENDRPI_PORT,
        tls_cert=settings.ENDRPI_TLS_CERT,
        tls_key=settings.ENDRPI_TLS_KEY,
    )


def _escape(value: str) -> str:
    """A value inside a Twisted endpoint description: ``\\``, ``:`` and ``=`` are backslash-escaped."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def listening_endpoint(listening: Listening) -> str:
    """The Twisted endpoint description daphne listens on (its ``-e`` argument)."""
    where = f"port={listening.port}:interface={_escape(listening.host)}"
    if listening.tls_cert is not None and listening.tls_key is not None:
        return f"ssl:{where}:privateKey={_escape(str(listening.tls_key))}:certKey={_escape(str(listening.tls_cert))}"
    return f"tcp:{where}"


def listening_url(scheme: str, host: str, port: int) -> str:
    """``http://192.168.1.5:5000/``; an IPv6 address in brackets."""
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"{scheme}://{host}:{port}/"


def listening_urls(listening: Listening, *, bound: list[tuple[str, int]], addresses: list[str]) -> list[str]:
    """Every address the dashboard answers on.

    ``bound`` is what daphne reports it listens on (host, port); a wildcard bind is spelled out as
    each of the machine's ``addresses`` (IPv6 ones only for ``::``), loopback first.
    """
    urls: list[str] = []
    for host, port in bound:
        if host in WILDCARDS:
            hosts = [a for a in addresses if host == "::" or ipaddress.ip_address(a).version == 4]
        else:
            hosts = [host]
        for each in sorted(hosts, key=lambda a: (not _loopback(a), a)):
            url = listening_url(listening.scheme, each, port)
            if url not in urls:
                urls.append(url)
    return urls


@dataclass(frozen=True)
class NextSteps:
    """What ``scripts/serve`` suggests once the server is ready: commands as this checkout spells them."""

    python: str  # e.g. "./.venv/bin/python"
    install_service: str  # e.g. "./scripts/install-service"
    admin_exists: bool


def dashboard_url(urls: list[str]) -> str:
    """The one address to give others for the dashboard: the first that other devices can use (not
    loopback), else the first."""
    remote = [url for url in urls if not _loopback(_url_host(url))]
    return (remote or urls)[0]


def listening_dashboard_url() -> str:
    """:func:`dashboard_url` of where the settings say the server listens, on this machine's addresses.

    ``ENDRPI_HOST`` a wildcard (the default): this machine's first non-loopback address; a
    specific address: that one, loopback included (then it answers on this machine only)."""
    listening = listening_from_settings()
    addresses = this_host.interface_addresses() if listening.wildcard else []
    return dashboard_url(listening_urls(listening, bound=[(listening.host, listening.port)], addresses=addresses))


def next_steps_lines(urls: list[str], steps: NextSteps) -> list[str]:
    """Three lines: where the dashboard is, how to get to the settings, how to start it at boot.

    The addresses other devices can use come first; the loopback one is named as this machine's.
    """
    local = [url for url in urls if _loopback(_url_host(url))]
    remote = [url for url in urls if url not in local]
    shown = " or ".join(remote or local)
    if remote and local:
        shown += f" (on this machine: {local[0]})"
    admin = f"{(remote or local or ['/'])[0]}admin/"
    if steps.admin_exists:
        settings_line = f"Settings (pin labels, locks): {admin}"
    else:
        create = f"{steps.python} manage.py createsuperuser"
        settings_line = f"Create the admin user for {admin} (pin labels, locks): {create}"
    return [
        f"Endrpi is ready. Open the dashboard: {shown}",
        settings_line,
        f"Start it at boot as a service: sudo {steps.install_service}   (Ctrl-C stops this one)",
    ]


def _url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").strip("[]")


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


@dataclass(frozen=True)
class TlsCertificate:
    """What the doctor and the start-up log say about the certificate being served."""

    subject: str
    names: list[str]
    not_after: datetime.datetime

    @property
    def expired(self) -> bool:
        return self.not_after <= datetime.datetime.now(datetime.UTC)


def _read(setting: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsError(f"{setting} ({path}) cannot be read: {error.strerror or error}") from None


def tls_files_check(*, cert: Path, key: Path) -> TlsCertificate:
    """Check that ``cert`` is a PEM certificate and ``key`` its unencrypted private key; raise :class:`TlsError`."""
    try:
        certificates = x509.load_pem_x509_certificates(_read("ENDRPI_TLS_CERT", cert))
    except ValueError:
        raise TlsError(f"ENDRPI_TLS_CERT ({cert}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        private_key = serialization.load_pem_private_key(_read("ENDRPI_TLS_KEY", key), password=None)
    except TypeError:
        raise TlsError(f"ENDRPI_TLS_KEY ({key}) is encrypted; the server needs it without a passphrase") from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise TlsError(f"ENDRPI_TLS_KEY ({key}) holds no PEM private key: {error}") from None
    certificate = certificates[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(serialization.Encoding.DER, spki) != private_key.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ):
        raise TlsError(f"ENDRPI_TLS_KEY ({key}) is not the private key of the certificate in ENDRPI_TLS_CERT ({cert})")
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(name.value) for name in alternative]
    except x509.ExtensionNotFound:
        names = []
    return TlsCertificate(
        subject=certificate.subject.rfc4514_string(), names=names, not_after=certificate.not_valid_after_utc
    )
