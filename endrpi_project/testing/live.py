"""A real daphne serving the project on 127.0.0.1, for end-to-end tests and scripts.

By default it is the user's own command, ``daphne endrpi_project.asgi:application`` (run as
``python -m daphne``). The server runs in its own process with a temporary data directory and
whatever host tree the caller gives it, so it never touches this machine's /sys, /proc, firmware or
pins. With
``serve=True`` it is started as ``scripts/serve`` and the service start it (``manage.py
endrpi_serve``), so ``ENDRPI_TLS_CERT`` / ``ENDRPI_TLS_KEY`` in ``env`` make it an HTTPS server.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Ask a server to stop; kill it if it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_rss_kib(pid: int) -> int | None:
    """The resident memory of process ``pid`` in KiB, or ``None`` once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    scheme: str = "http"

    def rss_kib(self) -> int | None:
        return process_rss_kib(self.process.pid)

    @property
    def http_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://127.0.0.1:{self.port}/"


def unverified_tls() -> ssl.SSLContext:
    """A client TLS context that accepts any certificate (the tests' own, self-signed)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def live_server(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    asgi: str = "endrpi_project.asgi:application",
    port: int | None = None,
    preexec_fn: Callable[[], None] | None = None,
    serve: bool = False,
    uvicorn: bool = False,
    log: Path | None = None,
) -> Iterator[LiveServer]:
    """Migrate a fresh database in ``data_dir``, start daphne, wait for its first answer, stop it after.

    ``preexec_fn`` runs in daphne's process before it starts (e.g. to give up root's file permissions).
    ``serve``: start it through ``manage.py endrpi_serve`` (as ``scripts/serve`` does) rather than
    plain daphne, on 127.0.0.1; its output (with the dashboard's addresses) is in ``log``.
    ``uvicorn``: start it with uvicorn instead (a server that speaks the ASGI lifespan protocol; a test
    tool from the dev requirements).
    ``log``: where the server's output goes (default ``data_dir/daphne.log``; elsewhere when ``data_dir`` is
    read-only).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(data_dir),
        "ENDRPI_GPIO": "mock",
        **(env or {}),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment, check=True
    )
    port = port or free_port()
    log = log or data_dir / "daphne.log"
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), asgi]
    if uvicorn:
        command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), asgi]
    if serve:
        command = [sys.executable, "manage.py", "endrpi_serve"]
        environment.update({"ENDRPI_HOST": "127.0.0.1", "ENDRPI_PORT": str(port)})
    scheme = "https" if serve and environment.get("ENDRPI_TLS_CERT") else "http"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
    server = LiveServer(process, port, log, scheme)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        stop_process(process)


def _wait_until_answering(server: LiveServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            context = unverified_tls() if server.scheme == "https" else None
            with urllib.request.urlopen(f"{server.http_url}/system/uptime", timeout=1, context=context):
                return
        except urllib.error.HTTPError:
            return  # answering, if not with 200 (with ENDRPI_AUTH=all it asks for a token)
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"daphne did not answer within {timeout}s:\n{server.log.read_text()}")


@dataclass
class ServeScript:
    """``scripts/serve`` running: its process, its port, what it printed, and how long it took to be ready."""

    process: subprocess.Popen[str]
    port: int
    output: list[str]
    ready_seconds: float

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def printed(self) -> str:
        return "".join(self.output)


@contextmanager
def serve_script(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    args: Sequence[str] = (),
    script: Path = ROOT / "scripts" / "serve",
    ready: str = "install-service",
    timeout: float = 120,
) -> Iterator[ServeScript]:
    """Run ``scripts/serve`` as a Pi owner does, on 127.0.0.1 and a free port, with the running Python's
    virtual environment (``ENDRPI_VENV``); ready once a line holds ``ready`` (by default the last of its
    next steps, naming ``install-service``). Stopped (SIGTERM) afterwards. ``script``: another
    checkout's, to compare (``bench/serve.py``)."""
    port = free_port()
    environment = {
        **os.environ,
        "ENDRPI_VENV": sys.prefix,
        "ENDRPI_DATA_DIR": str(data_dir),
        "ENDRPI_GPIO": "mock",
        "ENDRPI_HOST": "127.0.0.1",
        "ENDRPI_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    output: list[str] = []
    started = time.monotonic()
    process = subprocess.Popen(
        [str(script), *args],
        cwd=script.parent.parent,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = started + timeout
        while not any(ready in line for line in output):
            if process.poll() is not None or time.monotonic() > deadline:
                reader.join(timeout=2)
                raise RuntimeError(f"scripts/serve was not ready (exit {process.returncode}):\n{''.join(output)}")
            time.sleep(0.01)
        yield ServeScript(process, port, output, time.monotonic() - started)
    finally:
        stop_process(process)  # type: ignore[arg-type]
        reader.join(timeout=5)
