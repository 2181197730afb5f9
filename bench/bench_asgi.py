"""Endrpi's own ASGI application, with a recorded firmware answering on /dev/vcio_gencmd.

This machine has no VideoCore, so the benchmark serves the real project with one thing replaced:
the mailbox ioctl, which answers the text commands vcgencmd would send with the bytes the firmware
returns. Everything else (the host tree of ``ENDRPI_HOST_ROOT``, services, serializers, consumer)
is the code that runs on a Pi. Serve it with ``daphne bench.bench_asgi:application``.
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path

from endrpi_project.asgi import application
from system import parsers
from system.hardware import firmware

ANSWERS = {
    "get_throttled": "throttled=0x50005",
    "measure_clock arm": "frequency(48)=1500398464",
    "measure_clock core": "frequency(1)=500000992",
}


def _reply(request: bytes, text: str) -> bytes:
    """The buffer the firmware hands back: success, the tag's answer length, no error, the text."""
    answer = bytearray(request)
    struct.pack_into("<I", answer, 4, parsers.MAILBOX_SUCCESS)
    struct.pack_into("<II", answer, 16, parsers.TAG_RESPONSE | (len(text) + 5), 0)
    answer[24 : 24 + parsers.GENCMD_MAX] = text.encode().ljust(parsers.GENCMD_MAX, b"\0")
    return bytes(answer)


class RecordedGencmd:
    """A /dev/vcio_gencmd that answers the three commands Endrpi sends; no other device exists."""

    def __init__(self) -> None:
        self.replies = {
            parsers.gencmd_request(command): _reply(parsers.gencmd_request(command), text)
            for command, text in ANSWERS.items()
        }

    def call(self, path: Path, buffer: bytes) -> bytes:
        if path.name != "vcio_gencmd":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return self.replies[buffer]


firmware.install_mailbox_device(RecordedGencmd())

__all__ = ["application"]
