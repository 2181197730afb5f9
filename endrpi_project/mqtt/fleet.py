"""The fleet: every Endrpi publishing to the broker, from their retained topics.

Each Pi's ``availability``, ``device`` and ``system`` messages update one small :class:`Member`
(only what the fleet lists is kept, not the whole message), so 200 Pis cost a few hundred kB.
A message that is not what an Endrpi publishes (bad JSON, an unknown shape) is ignored for that
Pi and logged once per Pi, never breaking the list. An empty retained message (a Pi removed from
the broker) removes that part of it; a member with nothing left leaves the list.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Any

from system.parsers import THROTTLE_CONDITIONS

logger = logging.getLogger(__name__)

# Push: the group and event of the FLEET topic (changed members, ``None`` for one that left).
FLEET_GROUP = "endrpi.fleet"
FLEET_CHANGED = "FLEET_CHANGED"

# Throttle fields that are warnings now (the "has occurred" ones are history, not shown as warnings).
WARNINGS = tuple(condition.now for condition in THROTTLE_CONDITIONS)


@dataclass(frozen=True)
class Member:
    node: str
    name: str | None = None
    model: str | None = None
    url: str | None = None
    online: bool | None = None  # None: no availability message (yet)
    temperature: float | None = None
    throttle_warnings: tuple[str, ...] = ()
    system_seen: bool = False

    @property
    def display_name(self) -> str:
        return self.name or self.node

    @property
    def is_online(self) -> bool:
        return self.online is True

    @property
    def empty(self) -> bool:
        return self.name is None and self.online is None and not self.system_seen


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json_object(payload: bytes) -> dict[str, Any]:
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _apply(member: Member, kind: str, payload: bytes) -> Member:
    """``member`` after one retained message of ``kind``; raises ``ValueError`` for a foreign payload."""
    if kind == "availability":
        if not payload:
            return replace(member, online=None)
        text = payload.decode("utf-8", "replace").strip()
        if text not in ("online", "offline"):
            raise ValueError(f"availability {text[:40]!r}")
        return replace(member, online=text == "online")
    if kind == "device":
        if not payload:
            return replace(member, name=None, model=None, url=None)
        data = _json_object(payload)
        return replace(member, name=_text(data.get("name")), model=_text(data.get("model")), url=_text(data.get("url")))
    # system: the GET /system body
    if not payload:
        return replace(member, temperature=None, throttle_warnings=(), system_seen=False)
    data = _json_object(payload)
    temperature = None
    soc = (data.get("temperature") or {}).get("systemOnChip") or {}
    if isinstance(soc.get("quantity"), (int, float)) and not isinstance(soc.get("quantity"), bool):
        temperature = float(soc["quantity"])
    throttle = data.get("throttle") or {}
    warnings = tuple(flag for flag in WARNINGS if throttle.get(flag) is True)
    return replace(member, temperature=temperature, throttle_warnings=warnings, system_seen=True)


class Fleet:
    """The members by node id; updated on the event loop, read from any thread."""

    def __init__(self) -> None:
        self._members: dict[str, Member] = {}
        self._lock = threading.Lock()
        self._complained: set[str] = set()

    def apply(self, node: str, kind: str, payload: bytes) -> bool:
        """Take one message; whether the member changed (``get`` then says how, ``None`` if it left)."""
        with self._lock:
            before = self._members.get(node) or Member(node)
            try:
                after = _apply(before, kind, payload)
            except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as error:
                if node not in self._complained:
                    self._complained.add(node)
                    logger.warning("Ignoring %s message of %s on the broker (not Endrpi's): %s", kind, node, error)
                return False
            if after == before:
                return False
            if after.empty:
                self._members.pop(node, None)
            else:
                self._members[node] = after
            return True

    def members(self) -> list[Member]:
        with self._lock:
            return sorted(self._members.values(), key=lambda member: member.node)

    def get(self, node: str) -> Member | None:
        with self._lock:
            return self._members.get(node)

    def clear(self) -> None:
        with self._lock:
            self._members.clear()
