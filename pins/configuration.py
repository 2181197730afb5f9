"""The pin models of SPEC.md as plain dataclasses, and the two kinds of change a client can ask for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Io = Literal["INPUT", "OUTPUT"]
Pull = Literal["FLOATING", "UP", "DOWN"]


@dataclass(frozen=True)
class PinConfiguration:
    io: Io
    state: float | None
    pull: Pull | None
    label: str | None = None  # the operator's name for the pin, from its PinSetting


@dataclass(frozen=True)
class InputChange:
    """Make a pin an input with this pull (a ``state`` sent with it is ignored)."""

    pull: Pull


@dataclass(frozen=True)
class OutputChange:
    """Make a pin an output at this state: 0 or 1, or a PWM duty cycle between (``pull`` ignored)."""

    state: float


PinChange = InputChange | OutputChange
