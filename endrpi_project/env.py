"""Small typed readers for ``ENDRPI_*`` environment variables.

Each helper refuses a value it cannot understand with :class:`SettingError`: one line naming the
variable and what it accepts, which stops whatever is starting (``manage.py``, daphne, the service)
without a traceback. A typo in a service file fails loudly at start-up instead of silently using a
default, or silently turning a limit off (``nan``).

``python -m endrpi_project.env`` checks that daphne can listen where ``ENDRPI_HOST`` and ``ENDRPI_PORT``
say (``scripts/serve`` runs it just before daphne), so a port in use or an address this machine
does not have is reported by setting name too.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import re
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# A host name as RFC 1123 spells it: dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?", re.IGNORECASE)


class SettingError(SystemExit):
    """A setting the server cannot use. A ``SystemExit``, so start-up stops with just this one line.

    Raised while the settings module is imported, an ``ImproperlyConfigured`` would surface as a
    traceback through Django's import machinery (``manage.py``) or daphne's loader; the message here is
    all a Pi owner needs: the variable, the value, and what it accepts.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _raw(name: str) -> str | None:
    return os.environ.get(name)


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), not {value!r}")


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f" of at least {minimum:g}"
    if maximum is not None:
        return f" of at most {maximum:g}"
    return ""


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    accepts = f"{name} must be a whole number{_range(minimum, maximum)}"
    try:
        number = int(value.strip())
    except ValueError:
        raise SettingError(f"{accepts}, not {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SettingError(f"{accepts}, not {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A finite number: ``nan`` and ``inf`` are refused (``nan`` compares false with every limit)."""
    value = _raw(name)
    if value is None:
        return default
    accepts = f"{name} must be a finite number{_range(minimum, maximum)}"
    try:
        number = float(value.strip())
    except ValueError:
        raise SettingError(f"{accepts}, not {value!r}") from None
    if not math.isfinite(number):
        raise SettingError(f"{accepts}, not {value!r}")
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise SettingError(f"{accepts}, not {value.strip()}")
    return number


def env_list(name: str, default: Sequence[str], *, allow_empty: bool = True, what: str = "values") -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items and not allow_empty:
        raise SettingError(f"{name} must list {what} separated by commas, or be unset; it is empty")
    return items


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    """One of ``choices``, matched without regard to case and returned as spelled in ``choices``."""
    value = _raw(name)
    if value is None:
        return default
    for choice in choices:
        if value.strip().lower() == choice.lower():
            return choice
    raise SettingError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return default if value is None or not value.strip() else Path(value.strip()).expanduser()


def host_name_valid(value: str) -> bool:
    """Whether ``value`` is an IP address or a host name (no scheme, port or path)."""
    try:
        ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(value)) and len(value) <= 253


def env_host(name: str, default: str) -> str:
    """An address to listen on: an IP address or a host name; empty means unknown (the default here)."""
    value = env_str(name, default).strip()
    if value and not host_name_valid(value):
        raise SettingError(
            f"{name} must be an IP address of this machine (0.0.0.0 for all, 127.0.0.1 for this machine only) "
            f"or a host name, not {value!r}"
        )
    return value


def env_port(name: str, default: int) -> int:
    return env_int(name, default, minimum=1, maximum=65535)


def env_host_patterns(name: str, default: Sequence[str]) -> list[str]:
    """Host names as Django's ``ALLOWED_HOSTS`` matches them: ``pi.example``, ``.example`` (and subdomains), ``*``."""
    patterns = env_list(
        name,
        default,
        allow_empty=False,
        what="extra host names (IP addresses, localhost and this machine's name are always allowed)",
    )
    for pattern in patterns:
        if pattern != "*" and not host_name_valid(pattern.removeprefix(".")):
            raise SettingError(
                f"{name} must list host names separated by commas (pi.example, .example for its subdomains "
                f"too, * for any), without scheme or port; not {pattern!r}"
            )
    return [pattern.lower() for pattern in patterns]


def env_writable(name: str, path: Path, *, what: str) -> None:
    """Refuse ``path`` (a file the server must create) when it does not exist and cannot be created."""
    if path.exists():
        return
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingError(
            f"{name} must be a directory the server can create and write; {directory} cannot be created "
            f"({error.strerror})"
        ) from None
    if not os.access(directory, os.W_OK):
        raise SettingError(
            f"{name} must be a directory the server can write; cannot create {what} in {directory} (Permission denied)"
        )


def sqlite_read_only_reason(path: Path) -> str | None:
    """Why the SQLite database at ``path`` cannot be opened for writing (a read-only file, or a directory
    where SQLite cannot create its journal: an SD card the kernel remounted read-only), else ``None``."""
    if not path.exists():
        return None  # env_writable has made sure it can be created
    if not os.access(path, os.W_OK):
        return f"{path} is read-only"
    if not os.access(path.parent, os.W_OK):
        return f"its directory {path.parent} is read-only"
    return None


def sqlite_database(path: Path, *, read_only: bool) -> dict[str, object]:
    """Django's ``DATABASES["default"]`` for the SQLite file at ``path``, opened read-only if ``read_only``.

    A database that cannot be written (:func:`sqlite_read_only_reason`) is opened read-only (SQLite's
    URI ``mode=ro``), so tokens, pin labels and the history are still read and only a change fails,
    naming the cause. In WAL mode a reader needs the ``-wal`` and ``-shm`` files: where they are gone
    (a clean shutdown) and the directory is read-only, nothing can create them, so the file is opened
    ``immutable`` as well (SQLite then reads it as the one file it is, which a read-only file system
    guarantees).
    """
    if not read_only:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    journal = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    immutable = not os.access(path.parent, os.W_OK) and not all(file.exists() for file in journal)
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": uri}


def env_listen_check() -> None:
    """Listen where daphne will (``ENDRPI_HOST``, ``ENDRPI_PORT``) and let go; :class:`SettingError` if that fails."""
    host = env_host("ENDRPI_HOST", "0.0.0.0") or "0.0.0.0"
    number = env_port("ENDRPI_PORT", 5000)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Twisted does
            listener.bind((host.removeprefix("[").removesuffix("]"), number))
            listener.listen()
    except socket.gaierror as error:
        raise SettingError(
            f"ENDRPI_HOST must be an IP address of this machine or a name that resolves to one; "
            f"{host!r} does not resolve ({error.strerror})"
        ) from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SettingError(
                f"ENDRPI_PORT must be a free port from 1 to 65535; {number} is in use on {host} (another server?)"
            ) from None
        if error.errno == errno.EACCES:
            raise SettingError(
                f"ENDRPI_PORT must be a port this user may listen on; {number} needs root (use 1024 to 65535)"
            ) from None
        raise SettingError(
            f"ENDRPI_HOST must be an IP address of this machine (0.0.0.0 for all, 127.0.0.1 for this machine "
            f"only) or a name that resolves to one; cannot listen on {host}:{number} ({error.strerror})"
        ) from None


def env_url(name: str, default: str, *, schemes: Sequence[str]) -> str:
    """A URL with one of ``schemes`` and a host (an unset or empty variable gives ``default``)."""
    value = _raw(name)
    if value is None or not value.strip():
        return default
    url = value.strip()
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError as error:
        raise SettingError(f"{name} is not a valid URL ({error}): {_redacted(url)!r}") from None
    if parsed.scheme.lower() not in schemes:
        raise SettingError(
            f"{name} must start with {' or '.join(f'{scheme}://' for scheme in schemes)}, not {_redacted(url)!r}"
        )
    if not parsed.hostname:
        raise SettingError(f"{name} names no host: {_redacted(url)!r}")
    if port == 0:
        raise SettingError(f"{name} has port 0: {_redacted(url)!r}")
    return url


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


if __name__ == "__main__":
    env_listen_check()
