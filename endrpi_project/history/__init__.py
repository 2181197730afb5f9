"""The history: readings kept on the Pi over time, throttle and under-voltage events, and their API.

Owns the ``history`` tables (samples, per-minute and per-ten-minute summaries, events), the
sampler that fills them while the server runs (started from ``endrpi_project/startup.py``),
``GET /system/history`` and ``GET /system/events``, the ``READ_HISTORY`` and ``READ_EVENTS``
WebSocket actions, and the ``HISTORY`` and ``EVENTS`` push topics.

- :mod:`.parsers`: times people type and the bucket grid (pure).
- :mod:`.series`: what is recorded, once: columns, their SQL, units, wire names.
- :mod:`.models`: the tables. :mod:`.store`: the buffer, the one-transaction write, the queries.
- :mod:`.sampler`: the task that reads the Pi through :mod:`system.services` and writes the store.
- :mod:`.services`, :mod:`.serializers`, :mod:`.views`, :mod:`.actions`: as in every app.
"""
