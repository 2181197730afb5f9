"""The API's pin models (``GET /pins``) as plain dataclasses, and the two kinds of change a client can ask for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Io = Literal["INPUT", "OUTPUT"]
Pull = Literal["FLOATING", "UP", "DOWN"]


@dataclass(frozen=True)
class PinConfiguration:
    io: Io
    state: float | None  # None: the level of a line nobody here claimed is unknown
    pull: Pull | None  # None: unknown (the kernel keeps no bias for a line nobody has requested)
    label: str | None = None  # the operator's name for the pin, from its PinSetting
    used_by: str | None = None  # the kernel's consumer of a line another driver or program holds
    function: str | None = None  # what the SoC's function select says: "GPIO", "I2C1 SDA"; None: unknown


@dataclass(frozen=True)
class InputChange:
    """Make a pin an input with this pull (a ``state`` sent with it is ignored)."""

    pull: Pull


@dataclass(frozen=True)
class OutputChange:
    """Make a pin an output at this state: 0 or 1, or a PWM duty cycle between (``pull`` ignored)."""

    state: float


PinChange = InputChange | OutputChange
