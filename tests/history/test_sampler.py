"""The sampler's ticks, driven by hand: what it reads, buffers, writes and publishes."""

from __future__ import annotations

import asyncio

import pytest

from endrpi_project.history import sampler as sampler_module
from endrpi_project.history.models import Sample, ThrottleEvent
from endrpi_project.history.sampler import EVENTS_CHANGED, HISTORY_UPDATED, Sampler, throttle_word
from endrpi_project.history.store import HistoryStore
from system import services as system
from system.hardware import firmware
from tests.history.conftest import DAY_MS

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampler(store: HistoryStore) -> Sampler:
    return Sampler(store=store, interval=10, flush_interval=60)


def test_the_throttle_word_comes_back_from_the_reading(vcgencmd):
    vcgencmd.answer(throttled="0xa000a")
    assert throttle_word(system.throttle_read()) == 0xA000A


def test_a_sample_holds_every_reading_and_is_published(sampler):
    published = sampler._tick(True, False)
    [row] = sampler.store.buffer
    storage = {name: value for name, value in row.values.items() if name.startswith("storage_")}
    network = {name: value for name, value in row.values.items() if name.startswith("network.")}
    assert storage["storage_sd_written_bytes"] == 4567890 * 512  # the fixture's sectors written
    assert storage["storage_root_free_bytes"] > 0
    # Interfaces that are up, loopback left out (wlan0 is down); a first read has no rate yet.
    assert network == {"network.eth0.rxBytesPerSecond": None, "network.eth0.txBytesPerSecond": None}
    assert {name: value for name, value in row.values.items() if name not in {**storage, **network}} == {
        "temperature": 48.312,
        "arm": 1500398464,
        "core": 500000992,
        "memory": 3411872,
        "cpu_usage_percent": 2.9,  # since boot: the first read of /proc/stat
        "cpu_load1": 0.52,
        "throttle": 0x50005,
    }
    history = [data for group, action, data in published if action == HISTORY_UPDATED]
    assert set(history[0].pop("storage")) == {"rootFreeBytes", "dataFreeBytes", "sdWrittenBytes"}
    assert history[0].pop("network")["eth0.rxBytesPerSecond"] is None
    assert history == [
        {
            "time": history[0]["time"],
            "temperature": {"systemOnChip": 48.312},
            "frequency": {"arm": 1500398464, "core": 500000992},
            "memory": {"available": 3411872},
            "cpu": {
                "usagePercent": 2.9,
                "load1": 0.52,
            },
            "sensors": {},  # none wired to this Pi
            "throttle": {
                "underVoltageDetected": True,
                "armFrequencyCapped": False,
                "throttling": True,
                "softTemperatureLimitActive": False,
                "underVoltageHasOccurred": True,
                "armFrequencyCappingHasOccurred": False,
                "throttlingHasOccurred": True,
                "softTemperatureLimitHasOccurred": False,
            },
        }
    ]


def test_a_watch_tick_takes_no_sample_and_reports_events_as_they_start_and_end(sampler, vcgencmd):
    vcgencmd.answer(throttled="0x0")
    assert sampler._tick(False, False) == []
    vcgencmd.answer(throttled="0x50005")
    [(_group, action, started)] = sampler._tick(False, False)
    assert action == EVENTS_CHANGED
    assert {event["condition"] for event in started} == {"underVoltage", "throttling"}
    assert all(event["end"] is None for event in started)
    vcgencmd.answer(throttled="0x50000")
    [(_, _, ended)] = sampler._tick(False, False)
    assert all(event["end"] is not None for event in ended)
    assert sampler.store.buffer == []
    assert len(sampler.store.pending_events) == 2


def test_a_failing_reading_is_null_in_the_sample(sampler, host_root):
    host_root.remove("sys/class/thermal/thermal_zone0/temp")
    sampler._tick(True, False)
    [row] = sampler.store.buffer
    assert row.values["temperature"] is None
    assert row.values["arm"] == 1500398464


def test_without_a_throttle_reading_the_watch_pauses_until_the_next_sample(sampler, vcgencmd, monkeypatch):
    # The firmware asks a source that failed again after RETRY_SECONDS (10 s, the default sample
    # interval); here the next sample comes at once, so without that wait.
    monkeypatch.setattr(firmware, "RETRY_SECONDS", 0.0)
    firmware.get_firmware.cache_clear()
    vcgencmd.answer(fail=True)
    sampler._tick(True, False)
    assert sampler.watching is False
    assert sampler.store.buffer[0].values["throttle"] is None
    assert sampler.store.buffer[0].values["arm"] is None
    vcgencmd.answer(throttled="0x0")
    sampler._tick(True, False)
    assert sampler.watching is True


def test_a_flush_tick_writes_the_buffer_and_events(sampler, vcgencmd):
    vcgencmd.answer(throttled="0x1")
    sampler._tick(True, False)
    sampler._tick(True, True)
    assert Sample.objects.count() == 2
    assert ThrottleEvent.objects.get().condition == "underVoltage"


def test_a_write_that_fails_is_logged_and_retried(sampler, monkeypatch, caplog):
    def fail(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sampler.store, "flush", fail)
    sampler._tick(True, True)
    assert "Could not write the history; 1 samples stay buffered" in caplog.text
    monkeypatch.undo()
    sampler._tick(True, True)
    assert Sample.objects.count() == 2


@pytest.mark.django_db(transaction=True)
async def test_start_samples_at_once_and_stop_writes_what_is_buffered(store, monkeypatch):
    published = []
    monkeypatch.setattr(sampler_module, "publish", lambda group, **message: published.append(message["action"]))
    running = Sampler(store=store, interval=10, flush_interval=3600)
    await running.start()
    for _ in range(100):
        if HISTORY_UPDATED in published:
            break
        await asyncio.sleep(0.05)
    await running.stop()
    assert HISTORY_UPDATED in published
    assert EVENTS_CHANGED in published  # 0x50005: under-voltage and throttling start, then end at stop
    from asgiref.sync import sync_to_async

    assert await sync_to_async(Sample.objects.count)() == 1
    ends = await sync_to_async(lambda: list(ThrottleEvent.objects.values_list("end", flat=True)))()
    assert len(ends) == 2
    assert None not in ends
    assert store.retention_ms == 30 * DAY_MS


def test_a_flag_set_before_the_server_started_is_recorded_once_per_boot(store, vcgencmd):
    vcgencmd.answer(throttled="0x10000")  # under-voltage has occurred since boot, not now
    first = Sampler(store=store, interval=10, flush_interval=60)
    [(_, _, [event])] = first._tick(False, True)
    assert event["condition"] == "underVoltage"
    assert event["observed"] is False
    assert event["durationSeconds"] == pytest.approx(123456.78, abs=1)  # uptime: since boot
    first._tick(False, True)
    restarted = Sampler(store=store, interval=10, flush_interval=60)
    assert restarted._tick(False, True) == []
    assert ThrottleEvent.objects.count() == 1


def test_where_the_sticky_flags_cover_2_seconds_a_flag_at_start_is_an_event_of_those_2_seconds(store, monkeypatch):
    from system.readings import Throttle

    flags = dict.fromkeys(
        (
            "under_voltage_detected",
            "arm_frequency_capped",
            "throttling",
            "soft_temperature_limit_active",
            "arm_frequency_capping_has_occurred",
            "throttling_has_occurred",
            "soft_temperature_limit_has_occurred",
        ),
        False,
    )
    answer = Throttle(**flags, under_voltage_has_occurred=True, history_window="LAST_2_SECONDS")
    monkeypatch.setattr(system, "throttle_read", lambda: answer)
    [(_, _, [event])] = Sampler(store=store, interval=10, flush_interval=60)._tick(False, False)
    assert (event["condition"], event["durationSeconds"], event["observed"]) == ("underVoltage", 2.0, False)


def test_on_a_database_opened_read_only_the_history_stays_in_memory_and_says_so_once(
    sampler, vcgencmd, settings, caplog
):
    settings.DATABASE_READ_ONLY = "/data/endrpi.sqlite3 is read-only"
    sampler._begin()
    for _ in range(3):
        sampler._tick(True, True)
    assert Sample.objects.count() == 0  # no write tried, none failed
    assert len(sampler.store.buffer) == 3  # what queries answer from
    assert caplog.text.count("the history is kept in memory only") == 1
    assert "Could not write the history" not in caplog.text
