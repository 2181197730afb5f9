"""Limits one client cannot get around: unanswered requests, writes per client and server-wide, admin logins."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from endrpi_project.access.limits import LOGIN_FAILURES_PER_ADDRESS, LOGIN_FAILURES_PER_USER, LoginAttempts
from endrpi_project.api.errors import LimitExceeded
from endrpi_project.asgi import application
from tests.helpers import http_put, websocket

pytestmark = pytest.mark.django_db(transaction=True)

UPDATE = {"pins": {"GPIO17": {"io": "OUTPUT", "state": 1}}}


async def test_requests_past_the_pending_limit_are_dropped_and_the_client_is_told_once(settings):
    settings.ENDRPI_WS_MAX_PENDING = 8
    communicator = WebsocketCommunicator(application, "/")
    assert (await communicator.connect())[0]
    # 50 requests arrive before the consumer runs: the test client cannot stop reading, so the
    # inbox keeps 8 and drops the rest (under the real server it stops reading the socket instead).
    for n in range(50):
        await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": n}))
    replies = [json.loads(await communicator.receive_from(timeout=5)) for _ in range(9)]
    assert await communicator.receive_nothing(timeout=0.1)
    notices = [reply for reply in replies if "id" not in reply]
    assert notices == [
        {
            "action": None,
            "success": False,
            "data": None,
            "error": "42 request(s) dropped: at most 8 may wait for an answer (ENDRPI_WS_MAX_PENDING); "
            "read the replies before sending more",
        }
    ]
    assert [reply["id"] for reply in replies if "id" in reply] == list(range(8))
    # The connection carries on.
    await communicator.send_to(text_data=json.dumps({"action": "READ_UPTIME", "id": "after"}))
    assert json.loads(await communicator.receive_from(timeout=5))["id"] == "after"
    await communicator.disconnect()


async def test_the_server_wide_write_rate_counts_websocket_and_rest_together(settings):
    settings.ENDRPI_WRITE_RATE = 2.0  # a burst of 2, then 2 a second
    async with websocket() as client:
        assert (await client.request("UPDATE_PIN_CONFIGURATIONS", UPDATE))["success"] is True
        status, _ = await http_put("/pins/GPIO17", {"io": "OUTPUT", "state": 0})
        assert status == 200
        refused = await client.request("UPDATE_PIN_CONFIGURATIONS", UPDATE)
        assert refused["error"] == (
            "The server is taking too many pin updates: at most 2 a second from all clients together "
            "(ENDRPI_WRITE_RATE); wait and retry"
        )
        status, body = await http_put("/pins/GPIO17", {"io": "OUTPUT", "state": 0})
        assert status == 429
        assert body["message"].startswith("The server is taking too many pin updates")
        assert (await client.request("READ_PIN_CONFIGURATIONS", {"pins": ["GPIO17"]}))["success"] is True


async def test_rest_writes_are_limited_per_client_address(settings):
    settings.ENDRPI_WS_WRITE_RATE = 0.01
    settings.ENDRPI_WS_WRITE_BURST = 3
    statuses = [(await http_put("/pins/GPIO17", {"io": "OUTPUT", "state": 1}))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, body = await http_put("/pins/GPIO17", {"io": "OUTPUT", "state": 1})
    assert (status, body) == (
        429,
        {"message": "Too many pin updates from your address: at most 0.01 a second (bursts of 3); wait and retry"},
    )


def test_login_attempts_lock_a_user_name_then_unlock_when_the_failures_age():
    now = [0.0]
    attempts = LoginAttempts(clock=lambda: now[0])
    for n in range(LOGIN_FAILURES_PER_USER):
        attempts.check(address=f"10.0.0.{n}", username="admin")
        attempts.failed(address=f"10.0.0.{n}", username="admin")
        now[0] += 1
    with pytest.raises(LimitExceeded, match="Too many failed logins for this user name: at most 5 in 15 minutes"):
        attempts.check(address="10.9.9.9", username="ADMIN")
    attempts.check(address="10.9.9.9", username="someone-else")
    now[0] = 15 * 60 + 0.5  # the first failure has aged out
    attempts.check(address="10.9.9.9", username="admin")


def test_login_attempts_lock_an_address_whatever_the_user_names():
    attempts = LoginAttempts()
    for n in range(LOGIN_FAILURES_PER_ADDRESS):
        attempts.failed(address="10.0.0.1", username=f"user{n}")
    with pytest.raises(LimitExceeded, match="Too many failed logins for your address"):
        attempts.check(address="10.0.0.1", username="new")
    attempts.check(address="10.0.0.2", username="new")


def login(client: Client, password: str) -> Any:
    return client.post("/admin/login/", {"username": "admin", "password": password, "next": "/admin/"})


def test_the_admin_login_refuses_even_the_right_password_after_repeated_failures_and_says_why():
    User.objects.create_superuser("admin", "admin@example.com", "right-password")
    client = Client()
    page = client.get("/admin/login/").content.decode()
    assert "After 5 wrong passwords for one user name, or 10 from one address, within 15 minutes" in page
    for _ in range(LOGIN_FAILURES_PER_USER):
        assert login(client, "wrong").status_code == 200
    refused = login(client, "right-password")
    assert refused.status_code == 200
    assert "Too many failed logins for this user name: at most 5 in 15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_good_login_before_the_limit_succeeds_and_clears_the_user_names_failures():
    User.objects.create_superuser("admin", "admin@example.com", "right-password")
    client = Client()
    for _ in range(LOGIN_FAILURES_PER_USER - 1):
        login(client, "wrong")
    assert login(client, "right-password").status_code == 302
    other = Client()
    for _ in range(LOGIN_FAILURES_PER_USER - 1):
        login(other, "wrong")
    assert "Too many failed logins" not in login(other, "wrong").content.decode()
