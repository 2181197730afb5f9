"""The user's command against the launcher: the same attacks under each, measured from outside.

    python bench/commands.py          # both rows, under each command, as a table
    python bench/commands.py --json

For each of ``daphne endrpi_project.asgi:application`` (run as ``python -m daphne``) and
``manage.py endrpi_serve`` (what ``scripts/serve`` and the service run), on a fresh server with a
soft open-file limit of 1,024 (a login shell's), a fake host and simulated GPIO:

- **half-open**: 1,100 connections from another address (127.0.0.2) each send a request head that
  never ends; meanwhile 30 REST and 30 WebSocket requests from 127.0.0.1, one at a time. Reports
  how many of those failed, how the attacker's connections were answered at once, and how many the
  server still held 15 s later (the request-head deadline, ``ENDRPI_HTTP_HEAD_TIMEOUT``, is 10 s).
- **pipelined**: one client sends 200 requests before reading anything, over HTTP/1.1 keep-alive
  and over a WebSocket (where at most ``ENDRPI_WS_MAX_PENDING``, 64, may wait for an answer), then
  reads: how many answers came, and whether in order.

``tests/abuse/test_guard_any_command.py`` asserts the same figures with these functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import selectors
import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import fake_host  # noqa: E402
from endrpi_project.testing.live import LiveServer, live_server  # noqa: E402

COMMANDS = ["daphne", "endrpi_serve"]
# A request head that never ends (no blank line): the connection stays half-open until the deadline.
HALF_OPEN = b"GET /system/uptime HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Waiting: "


def open_files_1024() -> None:
    """The soft open-file limit a login shell gives (the hard one stays), for the server's process."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


def enough_files_here(wanted: int = 4096) -> None:
    """Room in this process for the attacker's sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(data_dir: Path, command: str, env: dict[str, str] | None = None) -> Any:
    """A fresh server under ``command`` ("daphne" or "endrpi_serve") with the open-file limit at 1,024."""
    environment = {**fake_host(data_dir.parent), "ENDRPI_AUTH": "off", **(env or {})}
    return live_server(data_dir, environment, serve=command == "endrpi_serve", preexec_fn=open_files_1024)


# --- Half-open requests ---------------------------------------------------------------------------


def half_open(port: int, count: int, source: str) -> tuple[list[socket.socket], int]:
    """``count`` connections from ``source``, each sending a head that never ends; and how many failed.

    A connection the server refused may be closed before its head is sent (a reset): it counts as
    refused. An unguarded server out of open files stops accepting: those connections fail too.
    """
    sockets, failed = [], 0
    for _ in range(count):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(10)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(HALF_OPEN)
        except OSError:
            sock.close()
            failed += 1
            continue
        sockets.append(sock)
    return sockets, failed


def first_lines(sockets: list[socket.socket], wanted: int, timeout: float = 60) -> dict[socket.socket, bytes]:
    """The first line of each answer (b"reset", b"closed"), waiting at most ``timeout`` for ``wanted`` answers."""
    answers: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for each in sockets:
            selector.register(each, selectors.EVENT_READ)
        while len(answers) < wanted and time.monotonic() < deadline:
            for key, _ in selector.select(0.5):
                sock: Any = key.fileobj
                try:
                    answers[sock] = sock.recv(4096).split(b"\r\n", 1)[0] or b"closed"
                except OSError:
                    answers[sock] = b"reset"
                selector.unregister(sock)
    return answers


def rest_status(server: LiveServer) -> int | str:
    request = urllib.request.Request(f"{server.http_url}/system/uptime", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except Exception as error:
        return f"{type(error).__name__}: {error}"


async def websocket_success(server: LiveServer) -> bool | str:
    try:
        async with connect(server.ws_url, proxy=None, open_timeout=10) as websocket:
            await websocket.send('{"action":"READ_UPTIME"}')
            return bool(json.loads(await asyncio.wait_for(websocket.recv(), 10))["success"])
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def half_open_row(server: LiveServer, *, attackers: int = 1100, held_after: float = 15.0) -> dict[str, Any]:
    attack, failed = half_open(server.port, attackers, "127.0.0.2")
    started = time.monotonic()
    try:
        rest = [rest_status(server) for _ in range(30)]
        websocket = [asyncio.run(websocket_success(server)) for _ in range(30)]
        # Answered at once: what came within a second of the last legitimate request.
        at_once = first_lines(attack, wanted=len(attack), timeout=1.0)
        time.sleep(max(0.0, held_after - (time.monotonic() - started)))
        later = first_lines([sock for sock in attack if sock not in at_once], wanted=len(attack), timeout=0.5)
    finally:
        for sock in attack:
            sock.close()
    counted: dict[str, int] = {}
    for line in at_once.values():
        counted[line.decode(errors="replace")] = counted.get(line.decode(errors="replace"), 0) + 1
    return {
        "attackers": attackers,
        "attacker_connections_failed": failed,
        "answered_by_the_end_of_the_requests": counted,
        f"still_held_after_{held_after:g}_s": len(attack) - len(at_once) - len(later),
        "rest_failed_of_30": sum(status != 200 for status in rest),
        "websocket_failed_of_30": sum(success is not True for success in websocket),
        "rest_problems": sorted({str(status) for status in rest if status != 200})[:2],
        "websocket_problems": sorted({str(success) for success in websocket if success is not True})[:2],
    }


# --- Pipelined requests ---------------------------------------------------------------------------


def http_pipeline(port: int, count: int) -> list[tuple[bytes, str]]:
    """Send ``count`` GET requests (``/pins/GPIO100``...) in one write on one connection, then read each answer."""
    requests = b"".join(
        f"GET /pins/GPIO{100 + n} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
        for n in range(count)
    )
    answers: list[tuple[bytes, str]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(requests)
        reader = sock.makefile("rb")
        try:
            for _ in range(count):
                status = reader.readline().strip()
                if not status:
                    break
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                answers.append((status, json.loads(reader.read(length))["message"]))
        except TimeoutError:
            pass
    return answers


async def websocket_pipeline(server: LiveServer, count: int, wait: float = 30) -> list[dict[str, Any]]:
    """Send ``count`` requests on one WebSocket before reading anything, then read until ``count`` replies
    (or none for ``wait`` seconds)."""
    replies: list[dict[str, Any]] = []
    async with connect(server.ws_url, proxy=None, open_timeout=10) as websocket:
        for n in range(count):
            await websocket.send(json.dumps({"action": "READ_UPTIME", "id": n}))
        try:
            while len(replies) < count:
                replies.append(json.loads(await asyncio.wait_for(websocket.recv(), wait)))
        except TimeoutError:
            pass
    return replies


def pipelined_row(server: LiveServer, count: int = 200) -> dict[str, Any]:
    http_answers = http_pipeline(server.port, count)
    replies = asyncio.run(websocket_pipeline(server, count, wait=10))
    in_order = [message.split("`")[1] for _, message in http_answers] == [f"GPIO{100 + n}" for n in range(count)]
    answered = [reply for reply in replies if reply.get("success")]
    return {
        "pipelined": count,
        "http_answers": len(http_answers),
        "http_in_order": in_order,
        "websocket_answers": len(answered),
        "websocket_in_order": [reply.get("id") for reply in answered] == list(range(len(answered))),
        "websocket_errors": sorted({str(reply.get("error")) for reply in replies if not reply.get("success")})[:2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    enough_files_here()
    report: dict[str, Any] = {}
    for command in COMMANDS:
        report[command] = {}
        for row, measure in (("half_open", half_open_row), ("pipelined", pipelined_row)):
            with (
                tempfile.TemporaryDirectory(prefix="endrpi-commands-") as directory,
                serve(Path(directory) / "data", command) as server,
            ):
                report[command][row] = measure(server)
                report[command][row]["server_alive"] = server.process.poll() is None
    if args.json:
        print(json.dumps(report))
    else:
        for row in ("half_open", "pipelined"):
            print(row)
            for command in COMMANDS:
                print(f"  {command}: {json.dumps(report[command][row])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
