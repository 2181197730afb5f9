from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from endrpi_project import env


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("YES", True), ("0", False), ("off", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("ENDRPI_X", raw)
    assert env.env_bool("ENDRPI_X", not value) is value


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="ENDRPI_X must be a boolean"):
        env.env_bool("ENDRPI_X", False)


def test_an_unset_variable_gives_the_default(monkeypatch):
    monkeypatch.delenv("ENDRPI_X", raising=False)
    assert env.env_int("ENDRPI_X", 5) == 5
    assert env.env_list("ENDRPI_X", ["a"]) == ["a"]
    assert env.env_path("ENDRPI_X", Path("/x")) == Path("/x")


def test_env_int_refuses_words_and_values_out_of_range(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "five")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env.env_int("ENDRPI_X", 5)
    monkeypatch.setenv("ENDRPI_X", "70000")
    with pytest.raises(ImproperlyConfigured, match="at most 65535"):
        env.env_int("ENDRPI_X", 5, maximum=65535)


def test_env_float_refuses_values_below_its_minimum(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "0")
    with pytest.raises(ImproperlyConfigured, match=r"at least 0\.01"):
        env.env_float("ENDRPI_X", 1.0, minimum=0.01)


def test_env_choice_is_case_insensitive_and_refuses_unknown_choices(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", "MOCK")
    assert env.env_choice("ENDRPI_X", "auto", ["auto", "mock"]) == "mock"
    monkeypatch.setenv("ENDRPI_X", "fake")
    with pytest.raises(ImproperlyConfigured, match="one of auto, mock"):
        env.env_choice("ENDRPI_X", "auto", ["auto", "mock"])


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("ENDRPI_X", " pi.local, 192.168.1.5 ,,")
    assert env.env_list("ENDRPI_X", []) == ["pi.local", "192.168.1.5"]


def check_ids() -> set[str]:
    return {message.id for message in run_checks() if message.id and message.id.startswith("endrpi.")}


def test_a_host_root_that_does_not_exist_is_error_e001(settings, tmp_path):
    settings.ENDRPI_HOST_ROOT = tmp_path / "missing"
    assert check_ids() == {"endrpi.E001"}


def test_a_host_root_without_proc_is_warning_w001(settings, tmp_path):
    settings.ENDRPI_HOST_ROOT = tmp_path
    assert check_ids() == {"endrpi.W001"}


def test_the_fixture_host_root_passes_the_checks():
    assert check_ids() == set()
