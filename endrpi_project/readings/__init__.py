"""Readings, declared once: what a reading is, and the table every edge reads it from.

An app declares each of its readings as one :class:`~.declaration.Reading` in its ``declarations``
module (``system/declarations.py``: ``READINGS = [...]``). :func:`~.registry.reading_table` joins them,
and every edge follows from that table: the REST route ``/system/<name>``, the WebSocket action
``READ_<NAME>`` and push topic ``<NAME>``, ``GET /system`` (and so MQTT's ``system`` state), the
history's series, ``/metrics``, Home Assistant discovery, ``/docs/websocket``, the OpenAPI schema and
the dashboard's card. See ``docs/readings.md``.

- :mod:`.declaration`: the declaration's types (named fields only).
- :mod:`.registry`: the table, ``GET /system``'s composite reading, the actions and topics.

The REST views made from declarations are the system app's (``system/views.py``, ``system/urls.py``).
"""
