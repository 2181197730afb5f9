"""Wire shapes both apps share: the ``Message`` body of every REST error, and how the schema names it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class MessageSerializer(serializers.Serializer[Any]):
    """`{"message": "..."}`: what every REST error (and a successful pin update) answers with."""

    message = serializers.CharField()


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Schema responses for the error statuses a view can answer, each a ``Message`` body."""
    meaning = {
        400: "The request body is missing or invalid; the message says what is wrong.",
        404: "No such pin; pins are GPIO2 to GPIO27.",
        409: "The pin is locked in the server's settings.",
        500: "A reading or the GPIO hardware failed; the message says which and why.",
    }
    return {code: OpenApiResponse(MessageSerializer, description=meaning[code]) for code in codes}
