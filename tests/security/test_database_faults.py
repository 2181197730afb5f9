"""A database that is locked by another process or read-only: tokens keep working, errors name the cause.

Checking a token only reads; its use is written afterwards, best effort, by a background thread. A
request that does need to write (the admin saving a token) answers 503 naming the cause, and the
WebSocket handshake is answered before the token is looked up, so it never runs out daphne's
handshake timeout. The live tests hold a real SQLite lock from a second connection on the server's
database file, and make the file read-only for the server's process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets.sync.client
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from endrpi_project.access.models import AccessToken
from endrpi_project.access.tokens import (
    CLOSE_UNAVAILABLE,
    access_token_authenticate,
    access_token_create,
    access_token_use_flush,
)
from endrpi_project.asgi import application
from endrpi_project.testing.live import ROOT, LiveServer, live_server
from tests.conftest import FIXTURES, HostTree

pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = "The database is locked by another process (a long write, a backup or a manage.py shell): try again"
READ_ONLY = "The database is read-only, so this change cannot be saved: make ENDRPI_DATABASE_PATH writable"


@contextlib.contextmanager
def write_locked_table(table: str, column: str = "name") -> Iterator[None]:
    """A second connection to the test database holding an open write transaction on ``table``.

    The test database is SQLite in memory with a shared cache, where a writer locks the tables it
    wrote until it commits: a reader of that table is refused with ``database table is locked``.
    """
    second = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None)
    try:
        second.execute("BEGIN IMMEDIATE")
        second.execute(f"UPDATE {table} SET {column} = {column}")
        yield
    finally:
        second.execute("ROLLBACK")
        second.close()


@contextlib.contextmanager
def read_only_connection() -> Iterator[None]:
    """This thread's database connection refuses every write as a read-only file would
    (``PRAGMA query_only``: SQLite's ``attempt to write a readonly database``)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


# --- Through the ASGI application ---------------------------------------------------------------


def test_checking_a_token_writes_nothing(settings):
    settings.ENDRPI_AUTH = "all"
    secret = access_token_create(name="reader", scope="read")[1]
    with read_only_connection():
        assert access_token_authenticate(secret=secret).name == "reader"
        assert Client().get("/system/uptime", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_recording_use_on_a_read_only_database_is_logged_and_dropped(settings, caplog):
    secret = access_token_create(name="reader", scope="read")[1]
    access_token_authenticate(secret=secret)
    with read_only_connection(), caplog.at_level(logging.WARNING, logger="endrpi_project.access.tokens"):
        assert access_token_use_flush() == 0
    assert "Could not record when access tokens were last used" in caplog.text
    assert "readonly database" in caplog.text
    assert AccessToken.objects.get(name="reader").last_used is None


def test_rest_answers_503_naming_a_lock_that_keeps_a_token_from_being_checked(settings):
    settings.ENDRPI_AUTH = "all"
    secret = access_token_create(name="reader", scope="read")[1]
    with write_locked_table("access_accesstoken"):
        answer = Client().get("/system/uptime", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 503
    assert answer.json() == {"message": LOCKED}


def test_rest_reads_that_need_no_database_keep_working_while_it_is_locked(settings):
    settings.ENDRPI_AUTH = "write"  # reads need no token, so the locked token table is not in their way
    from pins.models import PinSetting
    from pins.services import pin_settings_forget

    PinSetting.objects.create(pin=17, label="Garage relay")
    pin_settings_forget()  # the labels must be fetched again, from the locked table
    with write_locked_table("pins_pinsetting", column="label"):
        assert Client().get("/system/uptime").status_code == 200
        answer = Client().get("/pins/GPIO17", HTTP_ACCEPT="application/json")
    # The pin is read from the hardware; only its label, which needs the database, is missing.
    assert answer.status_code == 200
    assert answer.json()["io"] == "INPUT"
    assert answer.json()["label"] is None


def test_saving_in_the_admin_on_a_read_only_database_is_a_503_naming_it():
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    with read_only_connection():
        answer = client.post(
            "/admin/access/accesstoken/add/", {"name": "dashboard", "scope": "read"}, HTTP_ACCEPT="application/json"
        )
    assert answer.status_code == 503
    assert answer.json() == {"message": READ_ONLY}


@pytest.fixture
def secret() -> str:
    return access_token_create(name="writer", scope="read-write")[1]


async def test_a_websocket_whose_token_cannot_be_checked_is_told_why_and_closed_with_4503(settings, secret):
    settings.ENDRPI_AUTH = "all"
    with write_locked_table("access_accesstoken"):
        communicator = WebsocketCommunicator(application, f"/?token={secret}")
        connected, _ = await communicator.connect()
        assert connected  # the handshake is answered before the token is looked up
        reply = await communicator.receive_json_from(timeout=10)
        closed = await communicator.receive_output(timeout=10)
    assert reply == {
        "action": None,
        "success": False,
        "data": None,
        "error": f"The access token could not be checked: {LOCKED}",
    }
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CLOSE_UNAVAILABLE
    await communicator.wait()


async def test_a_websocket_in_mode_write_keeps_reading_while_its_token_cannot_be_checked(settings, secret):
    settings.ENDRPI_AUTH = "write"
    with write_locked_table("access_accesstoken"):
        communicator = WebsocketCommunicator(application, f"/?token={secret}")
        assert (await communicator.connect())[0]
        notice = await communicator.receive_json_from(timeout=10)
        assert notice["error"] == f"The access token could not be checked: {LOCKED}"
        await communicator.send_json_to({"action": "READ_UPTIME"})
        assert (await communicator.receive_json_from(timeout=10))["success"] is True
        await communicator.send_json_to(
            {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}}
        )
        refused = await communicator.receive_json_from(timeout=10)
    assert refused["success"] is False
    assert refused["error"] == LOCKED
    await communicator.disconnect()


# --- Through a real daphne, with a real second connection on the database file --------------------


def give_up_root_file_permissions() -> None:
    """In the server's process, before it starts: as root, drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    from the bounding set (``prctl(PR_CAPBSET_DROP)``), so file modes bind the server as they bind the
    Pi's own user (root ignores them otherwise). Nothing to do when the tests do not run as root; where
    root may not drop them (no CAP_SETPCAP) this does nothing, :func:`file_modes_bind` says so and the
    tests that need it skip."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # linux/capability.h: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP


def file_modes_bind(tmp_path: Path) -> bool:
    """Whether a process started with :func:`give_up_root_file_permissions` is refused a read-only file."""
    probe = tmp_path / "read-only-probe"
    probe.write_text("")
    probe.chmod(0o444)
    result = subprocess.run(
        [sys.executable, "-c", f"open({str(probe)!r}, 'a')"],
        preexec_fn=give_up_root_file_permissions,
        capture_output=True,
    )
    return result.returncode != 0


def create_token(data_dir: Path, name: str, scope: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "endrpi_project.settings", "ENDRPI_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [sys.executable, "manage.py", "endrpi_token", "create", name, "--scope", scope],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def host_tree(base: Path) -> dict[str, str]:
    tree = HostTree(base / "host")
    tree.write("proc/uptime", "1234.4 1.0\n")
    tree.write("proc/meminfo", (FIXTURES / "meminfo.txt").read_text())
    return {"ENDRPI_HOST_ROOT": str(tree.root), "ENDRPI_VCGENCMD": "/nonexistent"}


def rest(server: LiveServer, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        f"{server.http_url}{path}", data=data, headers=headers, method="PUT" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def websocket_read(server: LiveServer, token: str | None) -> tuple[list[Any], int | None]:
    """Connect (token as subprotocol), ask READ_UPTIME, and return what came back and the close code, if any."""
    protocols = [Subprotocol("endrpi"), Subprotocol(f"endrpi.token.{token}")] if token else None
    received: list[Any] = []
    with websockets.sync.client.connect(server.ws_url, subprotocols=protocols, proxy=None, open_timeout=10) as socket:
        try:
            socket.send(json.dumps({"action": "READ_UPTIME"}))
            received.append(json.loads(socket.recv(timeout=30)))
            if received[0]["action"] is None:  # a notice first: the answer (or the close) follows
                received.append(json.loads(socket.recv(timeout=30)))
        except ConnectionClosed as closed:
            return received, closed.rcvd.code if closed.rcvd else None
    return received, None


UPDATE = {"io": "OUTPUT", "state": 1}
PIN_UPDATE = {"action": "UPDATE_PIN_CONFIGURATIONS", "params": {"pins": {"GPIO17": UPDATE}}}


@contextlib.contextmanager
def sqlite_lock(database: Path, kind: str) -> Iterator[None]:
    """Another process's connection to the database file holding a ``RESERVED`` (``BEGIN IMMEDIATE``, the
    write lock a writer holds until it commits) or ``EXCLUSIVE`` lock (in rollback-journal mode no reader
    gets in either; in WAL mode, Endrpi's, readers still do)."""
    other = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        other.execute(f"BEGIN {kind}")
        other.execute("UPDATE access_accesstoken SET name = name")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory) -> Iterator[tuple[LiveServer, str, str]]:
    base = tmp_path_factory.mktemp("database-faults")
    with live_server(base / "data", {**host_tree(base), "ENDRPI_AUTH": "all"}) as server:
        yield server, create_token(base / "data", "reader", "read"), create_token(base / "data", "writer", "read-write")


@pytest.mark.slow
def test_live_tokens_keep_working_while_another_process_holds_the_write_lock(token_server):
    server, reader, writer = token_server
    with sqlite_lock(server.log.parent / "endrpi.sqlite3", "IMMEDIATE"):
        # All while the lock is held: none of them waits for it. (Before, the handshake waited on the
        # lock to write last_used and was reset by daphne's handshake timeout: closed, no success.)
        assert rest(server, "/system/uptime", reader)[0] == 200
        assert rest(server, "/pins/GPIO17", writer, UPDATE)[0] == 200
        received, closed = websocket_read(server, reader)
        assert closed is None
        assert received[0]["success"] is True


@pytest.mark.slow
def test_live_even_an_exclusive_writer_stops_no_reader_in_wal_mode(token_server):
    # The database runs in WAL mode (endrpi_project.history): readers read past any writer, so the
    # lock that kept tokens from being checked cannot happen here any more; the 503 and 4503 it would
    # give are checked above, at the ASGI level, with a lock that does stop readers.
    server, reader, writer = token_server
    with sqlite_lock(server.log.parent / "endrpi.sqlite3", "EXCLUSIVE"):
        assert rest(server, "/system/uptime", reader)[0] == 200
        received, closed = websocket_read(server, reader)
        assert rest(server, "/pins/GPIO17", writer, UPDATE)[0] == 200  # the pin settings are read, not written
    assert closed is None
    assert received[0]["success"] is True


@pytest.mark.slow
def test_live_a_read_only_database_keeps_every_token_working(tmp_path):
    data = tmp_path / "data"
    env = {**host_tree(tmp_path), "ENDRPI_AUTH": "all"}
    with live_server(data, env):
        pass  # a migrated database, as scripts/serve leaves it
    reader, writer = create_token(data, "reader", "read"), create_token(data, "writer", "read-write")
    if not file_modes_bind(tmp_path):
        pytest.skip("this machine lets the server write a read-only file (root without CAP_SETPCAP)")
    database = data / "endrpi.sqlite3"
    database.chmod(0o444)
    with live_server(data, env, preexec_fn=give_up_root_file_permissions) as server:
        for _ in range(2):  # before: a token not used in the last minute failed, every time
            assert rest(server, "/system/uptime", reader)[0] == 200
            assert rest(server, "/pins/GPIO17", writer, UPDATE)[0] == 200
            received, closed = websocket_read(server, writer)
            assert closed is None
            assert received[0]["success"] is True
        deadline = time.monotonic() + 30
        while "Could not record when access tokens were last used" not in server.log.read_text():
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.2)
    assert "readonly database" in server.log.read_text()


# --- A data directory that is read-only from start-up (an SD card the kernel remounted read-only) ------


def test_a_database_that_cannot_be_written_is_opened_read_only_and_still_read(tmp_path):
    from endrpi_project.env import sqlite_database

    path = tmp_path / "endrpi.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("CREATE TABLE t (a)")
        writer.execute("INSERT INTO t VALUES (1)")
        writer.commit()
    assert sqlite_database(path, read_only=False)["NAME"] == path
    name = str(sqlite_database(path, read_only=True)["NAME"])
    assert name.startswith("file:")
    assert "mode=ro" in name
    with contextlib.closing(sqlite3.connect(name, uri=True)) as reader:
        assert reader.execute("SELECT a FROM t").fetchall() == [(1,)]
        with pytest.raises(sqlite3.OperationalError, match="readonly database"):
            reader.execute("INSERT INTO t VALUES (2)")


def manage(data_dir: Path, *args: str, **env: str) -> None:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "endrpi_project.settings",
        "ENDRPI_DATA_DIR": str(data_dir),
        **env,
    }
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, check=True)


@contextlib.contextmanager
def read_only_tree(directory: Path) -> Iterator[None]:
    """``directory`` and every file in it read-only, as a read-only mount leaves them; restored after."""
    files = [path for path in directory.iterdir() if path.is_file()]
    for path in files:
        path.chmod(0o444)
    directory.chmod(0o555)
    try:
        yield
    finally:
        directory.chmod(0o755)
        for path in files:
            path.chmod(0o644)


def admin_login(server: LiveServer) -> tuple[int, Any]:
    """Log in to the admin as a browser does (the CSRF cookie, then the form): a login writes a session."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server.http_url}/admin/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": "admin", "password": "pw-for-tests", "csrfmiddlewaretoken": csrf})
    request = urllib.request.Request(
        f"{server.http_url}/admin/login/", data=form.encode(), headers={"Accept": "application/json"}, method="POST"
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextlib.contextmanager
def read_only_mount(directory: Path) -> Iterator[None]:
    """``directory`` bind-mounted read-only onto itself: what the kernel leaves of an SD card it remounted
    read-only (every write is ``EROFS``, root's too). Needs CAP_SYS_ADMIN (:func:`mounts_allowed`)."""
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True, capture_output=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True, capture_output=True)


def mounts_allowed(tmp_path: Path) -> bool:
    probe = tmp_path / "mount-probe"
    probe.mkdir()
    try:
        with read_only_mount(probe):
            return True
    except (OSError, subprocess.CalledProcessError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("made_read_only", ["by a read-only mount", "by file modes"])
def test_live_a_read_only_data_directory_still_reads_tokens_and_labels_and_names_the_cause_of_a_refused_write(
    tmp_path, made_read_only
):
    data = tmp_path / "data"
    if made_read_only == "by a read-only mount":
        if not mounts_allowed(tmp_path):
            pytest.skip("this machine may not mount (no CAP_SYS_ADMIN): the file-modes case stands in")
        read_only, preexec_fn = read_only_mount(data), None
    else:
        if not file_modes_bind(tmp_path):
            pytest.skip("this machine lets the server write a read-only file (root without CAP_SETPCAP)")
        read_only, preexec_fn = read_only_tree(data), give_up_root_file_permissions
    env = {**host_tree(tmp_path), "ENDRPI_AUTH": "all"}
    with live_server(data, env):
        pass  # a migrated database, as scripts/serve leaves it; stopped cleanly (no -wal, no -shm left)
    reader, writer = create_token(data, "reader", "read"), create_token(data, "writer", "read-write")
    manage(data, "shell", "-c", "from pins.models import PinSetting; PinSetting.objects.create(pin=17, label='Relay')")
    manage(data, "createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.com",
           DJANGO_SUPERUSER_PASSWORD="pw-for-tests")  # fmt: skip
    log = tmp_path / "daphne.log"
    with read_only, live_server(data, env, preexec_fn=preexec_fn, log=log) as server:
        assert rest(server, "/system/uptime", reader)[0] == 200
        status, pin = rest(server, "/pins/GPIO17", reader)
        assert (status, pin["label"]) == (200, "Relay")
        assert rest(server, "/pins/GPIO17", writer, UPDATE)[0] == 200  # driving a pin writes nothing
        received, closed = websocket_read(server, reader)
        assert closed is None
        assert received[0]["success"] is True
        assert "Traceback" not in log.read_text()  # the reads logged no failure
        status, body = admin_login(server)
    assert status == 503
    assert body["message"] == (
        f"The database was opened read-only at start-up ({data / 'endrpi.sqlite3'} is read-only), so this change "
        "cannot be saved: make it writable (a read-only SD card: remount it read-write) and restart the server"
    )


def test_a_change_refused_by_a_database_opened_read_only_at_start_up_names_that_reason(settings):
    """REST's 503 and the WebSocket's error envelope both come from error_message: the same words."""
    from django.db import OperationalError

    from endrpi_project.api.errors import error_message

    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    settings.DATABASE_READ_ONLY = "/data/endrpi.sqlite3 is read-only"
    expected = (
        "The database was opened read-only at start-up (/data/endrpi.sqlite3 is read-only), so this change cannot "
        "be saved: make it writable (a read-only SD card: remount it read-write) and restart the server"
    )
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    with read_only_connection():
        answer = client.post(
            "/admin/access/accesstoken/add/", {"name": "dashboard", "scope": "read"}, HTTP_ACCEPT="application/json"
        )
    assert (answer.status_code, answer.json()) == (503, {"message": expected})
    assert error_message(OperationalError("attempt to write a readonly database")) == (503, expected)
