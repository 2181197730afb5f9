"""A reading's serializer made from its model: for a new reading, the model is the one description.

:func:`serializer_for` reads a frozen dataclass's fields and types: ``float``/``int`` become numbers
that keep their kind, ``str``, ``bool`` and ``Literal[...]`` choices what they say, a nested dataclass
a nested object, ``dict[str, X]`` an object of ``X``, ``list[X]``/``tuple[X, ...]`` an array, and
``X | None`` a nullable ``X``. Field names go on the wire in camelCase (``load_1`` -> ``load1``,
``bytes_free`` -> ``bytesFree``); a field's ``metadata={"help": "..."}`` is its description in the
OpenAPI schema.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field[Any, Any, Any, Any]):
    """A JSON number that keeps its kind: kilobytes and hertz stay integers, degrees stay floats."""

    def to_representation(self, value: Any) -> Any:
        return value


def camel_case(name: str) -> str:
    """A Python name as a wire name: ``bytes_free`` -> ``bytesFree``, ``load_1`` -> ``load1``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _field(hint: Any, **options: Any) -> serializers.Field[Any, Any, Any, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _field(inner, allow_null=True, **options)
    if origin is Literal:
        return serializers.ChoiceField(choices=list(args), **options)
    if origin is dict:
        return serializers.DictField(child=_field(args[1]), **options)
    if origin in (list, tuple):
        return serializers.ListField(child=_field(args[0]), **options)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return serializer_for(hint)(**options)
    if hint is bool:
        return serializers.BooleanField(**options)
    if hint in (int, float):
        return NumberField(**options)
    if hint is str:
        return serializers.CharField(**options)
    raise TypeError(f"serializer_for cannot describe a field of type {hint!r}")


@cache
def serializer_for(model: type) -> type[serializers.Serializer[Any]]:
    """The serializer of a reading's model (a frozen dataclass), built once per model."""
    hints = typing.get_type_hints(model)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(model):
        name = camel_case(field.name)
        options: dict[str, Any] = {"help_text": field.metadata.get("help", "")} if field.metadata.get("help") else {}
        if name != field.name:
            options["source"] = field.name
        fields[name] = _field(hints[field.name], **options)
    name = re.sub(r"\W", "", model.__name__)
    return type(f"{name}Serializer", (serializers.Serializer,), {"__module__": model.__module__, **fields})
