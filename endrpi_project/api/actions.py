"""The WebSocket action table: what each action is called, what params it takes, what it does.

Each app lists its actions in its own ``actions.py``; :class:`ActionTable` joins them. The
consumer dispatches through the table, and the WebSocket API page is generated from it, so the
two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from rest_framework import serializers

from endrpi_project.api.errors import InvalidRequest

Handler = Callable[..., Any]
T = TypeVar("T")


@dataclass(frozen=True)
class ParamDoc:
    """One parameter of an action, as the WebSocket API page lists it."""

    name: str
    type: str
    required: bool
    description: str


def _field_type(field: serializers.Field[Any, Any, Any, Any]) -> str:
    if isinstance(field, serializers.Serializer):
        return type(field).__name__.removesuffix("Serializer")
    if isinstance(field, serializers.ListField):
        return f"list of {_field_type(field.child)}"
    if isinstance(field, serializers.DictField):
        return f"object mapping names to {_field_type(field.child)}"
    if isinstance(field, serializers.ChoiceField):
        return " | ".join(f'"{choice}"' for choice in field.choices)
    if isinstance(field, (serializers.FloatField, serializers.IntegerField)):
        return "number"
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    return "string"


def _param_docs(serializer: serializers.Serializer[Any], prefix: str) -> Iterator[ParamDoc]:
    for name, param in serializer.fields.items():
        if param.read_only:
            continue
        path = f"{prefix}{name}"
        yield ParamDoc(path, _field_type(param), param.required, str(param.help_text or ""))
        child = getattr(param, "child", None)
        if isinstance(child, serializers.Serializer):
            yield from _param_docs(child, f"{path}.*.")


@dataclass(frozen=True)
class Action:
    """One WebSocket action.

    ``handler`` receives the validated params (``None`` for an action without params) and returns
    JSON-ready data. It is synchronous. The consumer runs it in a worker thread, off the event loop,
    unless ``inline`` says it never waits (one read of a kernel pseudo-file, say): then it
    runs on the loop, which saves the thread hand-off (about 120 us, more than such a read costs).
    An inline handler must not use the database.
    ``write`` marks an action that changes the Pi: it needs a read-write token when ``ENDRPI_AUTH``
    asks for one, and counts against the connection's write rate limit.
    """

    name: str
    handler: Handler
    description: str
    model: str
    params: type[serializers.Serializer[Any]] | None = None
    aliases: tuple[str, ...] = field(default=())
    inline: bool = False
    write: bool = False

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

    def param_docs(self) -> list[ParamDoc]:
        """The params this action takes, nested fields included (``pins.*.io``), from its serializer."""
        return [] if self.params is None else list(_param_docs(self.params(), ""))

    def run(self, params: Any) -> Any:
        return self.handler(self.validate(params))

    async def perform(self, connection: Any, params: Any) -> Any:
        """Run for the consumer ``connection``: in a worker thread, or on the loop when ``inline``."""
        if self.inline:
            return self.run(params)
        return await database_sync_to_async(self.run, thread_sensitive=False)(params)


@dataclass(frozen=True)
class ConnectionAction(Action):
    """An action on the client's own connection (its subscriptions), run on the event loop.

    ``handler(connection, validated_params)`` is a coroutine function; it must not block.
    """

    async def perform(self, connection: Any, params: Any) -> Any:
        return await self.handler(connection, self.validate(params))


class NameTable(Mapping[str, T]):
    """Name to entry, joined from groups each app contributes; a name declared twice is an error.

    ``entries`` keeps every entry once, in declaration order (for the API pages).
    """

    kind = "entry"

    def __init__(self, *groups: Iterable[T]) -> None:
        self._by_name: dict[str, T] = {}
        self.entries: list[T] = []
        for group in groups:
            for entry in group:
                self.entries.append(entry)
                for name in self.names(entry):
                    if name in self._by_name:
                        raise ValueError(f"{self.kind} {name} is declared twice")
                    self._by_name[name] = entry

    def names(self, entry: T) -> tuple[str, ...]:
        name: str = getattr(entry, "name")  # noqa: B009  (every table's entries have a name)
        return (name,)

    def __getitem__(self, name: str) -> T:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


class ActionTable(NameTable[Action]):
    """Action name (or alias) to action."""

    kind = "WebSocket action"

    def names(self, entry: Action) -> tuple[str, ...]:
        return (entry.name, *entry.aliases)

    @property
    def actions(self) -> list[Action]:
        return self.entries
