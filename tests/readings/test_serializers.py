"""A new reading's serializer comes from its model, and its service from its reader and parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest
from rest_framework.serializers import ChoiceField

from endrpi_project.api.errors import ReadingFailed
from endrpi_project.api.representation import representer
from endrpi_project.readings.registry import reading_service
from endrpi_project.readings.serializers import camel_case, serializer_for


@dataclass(frozen=True)
class Mount:
    path: str
    bytes_free: int
    used_fraction: float = field(metadata={"help": "0 to 1"})


@dataclass(frozen=True)
class Disk:
    state: Literal["OK", "WORN"]
    mounts: dict[str, Mount]
    load_1: float | None
    cores: list[float]
    removable: bool


DISK = Disk(
    state="OK",
    mounts={"/": Mount(path="/", bytes_free=10, used_fraction=0.25)},
    load_1=None,
    cores=[0.5, 1.0],
    removable=False,
)


def test_the_model_is_the_wire_form_in_camel_case_with_numbers_keeping_their_kind():
    assert representer(serializer_for(Disk))(DISK) == {
        "state": "OK",
        "mounts": {"/": {"path": "/", "bytesFree": 10, "usedFraction": 0.25}},
        "load1": None,
        "cores": [0.5, 1.0],
        "removable": False,
    }


def test_it_is_built_once_per_model_and_documents_each_field():
    serializer = serializer_for(Mount)
    assert serializer is serializer_for(Mount)
    assert serializer.__name__ == "MountSerializer"
    assert serializer().fields["usedFraction"].help_text == "0 to 1"
    state = serializer_for(Disk)().fields["state"]
    assert isinstance(state, ChoiceField)
    assert state.choices == {"OK": "OK", "WORN": "WORN"}


@pytest.mark.parametrize(("name", "wire"), [("bytes_free", "bytesFree"), ("load_1", "load1"), ("model", "model")])
def test_python_names_become_camel_case(name, wire):
    assert camel_case(name) == wire


def test_a_service_is_its_reader_then_its_parser_and_fails_with_the_readings_message():
    assert reading_service("tank level", lambda: "62.5\n", float)() == 62.5

    def missing() -> str:
        raise FileNotFoundError(2, "No such file or directory", "/sys/tank")

    with pytest.raises(ReadingFailed, match=r"^Failed to query tank level: No such file or directory$"):
        reading_service("tank level", missing, float)()
    with pytest.raises(ReadingFailed, match=r"^Failed to query tank level: could not convert"):
        reading_service("tank level", lambda: "full", float)()
