"""The WebSocket action table: what each action is called, what params it takes, what it does.

Each app lists its actions in its own ``actions.py``; :class:`ActionTable` joins them. The
consumer dispatches through the table, and the WebSocket API page is generated from it, so the
two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from endrpi_project.errors import InvalidRequest

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Action:
    """One WebSocket action.

    ``handler`` receives the validated params (``None`` for an action without params) and returns
    JSON-ready data. It is synchronous and may block briefly; the consumer runs it off the event loop.
    """

    name: str
    handler: Handler
    description: str
    model: str
    params: type[serializers.Serializer[Any]] | None = None
    aliases: tuple[str, ...] = field(default=())

    def validate(self, params: Any) -> Any:
        """The validated params, or a DRF ``ValidationError``/``InvalidRequest`` naming the problem."""
        if self.params is None:
            return None
        if params is None:
            raise InvalidRequest(f"Received message with missing 'params' field: {self.name} needs params")
        if not isinstance(params, Mapping):
            raise InvalidRequest("Received message with invalid 'params' field: params must be an object")
        serializer = self.params(data=params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def run(self, params: Any) -> Any:
        return self.handler(self.validate(params))


class ActionTable(Mapping[str, Action]):
    """Action name (or alias) to action."""

    def __init__(self, *groups: Iterable[Action]) -> None:
        self._by_name: dict[str, Action] = {}
        self.actions: list[Action] = []
        for group in groups:
            for action in group:
                self.actions.append(action)
                for name in (action.name, *action.aliases):
                    if name in self._by_name:
                        raise ValueError(f"WebSocket action {name} is declared twice")
                    self._by_name[name] = action

    def __getitem__(self, name: str) -> Action:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)
