"""One batch at a time, and reads that never see half of one.

These tests do not rely on timing: a batch is paused inside the hardware call, and the update lock
is wrapped so the test knows when another thread is waiting for it. Without the lock the second
batch (or the read) runs while the first is paused, every run, and the test fails.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pins import services
from pins.configuration import OutputChange

DEADLINE = 10.0


class WatchedLock:
    """The update lock, telling the test when a thread has to wait for it."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.waited = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.lock.acquire(blocking=False):
            return True
        if not blocking:
            return False
        self.waited.set()
        acquired: bool = self.lock.acquire(True, timeout)
        return acquired

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.fixture
def lock(monkeypatch) -> WatchedLock:
    watched = WatchedLock(services._update_lock)
    monkeypatch.setattr(services, "_update_lock", watched)
    return watched


@pytest.fixture
def pause(gpio, monkeypatch) -> Iterator[dict[str, Any]]:
    """Pause a batch when it is about to drive GPIO27 (after any pin before it in the batch)."""
    control: dict[str, Any] = {"inside": threading.Event(), "go": threading.Event(), "driven": []}
    real_set_output = gpio.set_output

    def set_output(bcm: int, state: float) -> None:
        control["driven"].append((bcm, state))
        if bcm == 27 and not control["go"].is_set():
            control["inside"].set()
            control["go"].wait(timeout=DEADLINE)
        real_set_output(bcm, state)

    monkeypatch.setattr(gpio, "set_output", set_output)
    yield control
    control["go"].set()


def start(target: Callable[..., Any], **kwargs: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(target(**kwargs)), daemon=True)
    thread.start()
    return thread, result


def test_a_second_batch_waits_until_the_first_is_applied(lock, pause):
    first, _ = start(services.pin_configurations_update, changes={27: OutputChange(state=1.0)})
    assert pause["inside"].wait(DEADLINE)
    second, _ = start(services.pin_configurations_update, changes={27: OutputChange(state=0.0)})
    wait_until(lambda: lock.waited.is_set() or len(pause["driven"]) > 1)
    assert pause["driven"] == [(27, 1.0)], "the second batch ran while the first was half applied"
    pause["go"].set()
    first.join(DEADLINE)
    second.join(DEADLINE)
    assert pause["driven"] == [(27, 1.0), (27, 0.0)]
    assert services.pin_configuration_read(pin=27).state == 0.0


def test_a_read_during_a_batch_sees_the_pins_before_or_after_it_never_half(lock, pause):
    batch = {17: OutputChange(state=1.0), 27: OutputChange(state=1.0)}
    writer, _ = start(services.pin_configurations_update, changes=batch)
    assert pause["inside"].wait(DEADLINE)  # GPIO17 is driven high, GPIO27 not yet
    reader, read = start(services.pin_configurations_read, pins=[17, 27])
    wait_until(lambda: lock.waited.is_set() or bool(read))
    if read:  # the read did not wait: it must not have seen half the batch
        assert {c.state for c in read[0].values()} == {0.0}, f"a half-applied batch was read: {read[0]}"
    pause["go"].set()
    writer.join(DEADLINE)
    reader.join(DEADLINE)
    assert {configuration.state for configuration in read[0].values()} == {1.0}


def test_the_event_loop_read_does_not_wait_for_a_batch(lock, pause):
    assert services.pin_configurations_read_now(pins=[17, 27]) is not None
    writer, _ = start(
        services.pin_configurations_update, changes={17: OutputChange(state=1.0), 27: OutputChange(state=1.0)}
    )
    assert pause["inside"].wait(DEADLINE)
    assert services.pin_configurations_read_now(pins=[17, 27]) is None, "it would have read half a batch"
    assert not lock.waited.is_set()
    pause["go"].set()
    writer.join(DEADLINE)
    after = services.pin_configurations_read_now(pins=[17, 27])
    assert after is not None
    assert {configuration.state for configuration in after.values()} == {1.0}


@pytest.mark.django_db
def test_the_event_loop_read_waits_for_no_database(monkeypatch):
    services.pin_settings_forget()
    assert services.pin_configurations_read_now(pins=[17]) is None, "the labels would need a query"


def test_many_snapshots_against_many_multi_pin_updates_are_never_torn(gpio):
    """Readers (blocking and event-loop reads) against writers flipping five pins together."""
    pins = [5, 6, 13, 19, 26]
    torn: list[dict[str, Any]] = []
    snapshots = [0]
    stop = threading.Event()

    def write() -> None:
        for index in range(150):
            level = float(index % 2)
            services.pin_configurations_update(changes={pin: OutputChange(state=level) for pin in pins})

    def read(now: bool) -> None:
        while not stop.is_set():
            if now:
                snapshot = services.pin_configurations_read_now(pins=pins)
                if snapshot is None:
                    continue
            else:
                snapshot = services.pin_configurations_read(pins=pins)
            snapshots[0] += 1
            if len({(c.io, c.state) for c in snapshot.values()}) != 1:
                torn.append({name: (c.io, c.state) for name, c in snapshot.items()})

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # hand the GIL over often, so threads interleave inside a batch
    try:
        writers = [threading.Thread(target=write) for _ in range(2)]
        readers = [threading.Thread(target=read, args=(now,)) for now in (False, True, False)]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join(60)
        stop.set()
        for thread in readers:
            thread.join(60)
    finally:
        sys.setswitchinterval(switch)
    assert snapshots[0] > 0
    assert torn == []
