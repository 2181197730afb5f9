"""Django's ASGI handler, with the middleware and view chain run in one worker-thread hop.

Django's own ``ASGIHandler`` runs the middleware chain in async mode. Its built-in middleware is
async-capable only by wrapping each ``process_request``/``process_response`` in ``sync_to_async``,
and our views are synchronous DRF views, so one REST request made about twenty thread hand-offs:
about 3.8 ms of server CPU per request on the benchmark machine. Every middleware and view here is
synchronous, so this handler builds the chain in sync mode and enters it once from the event loop,
in Django's thread-sensitive executor as a sync view would run: about 2 ms per request, the same
as with no middleware at all (``bench/benchmark.py``). Reading the request body and sending the
response (streaming included) stay Django's ASGI code.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response
