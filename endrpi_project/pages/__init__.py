"""The pages a person opens in a browser: the dashboard at ``/`` and the WebSocket API page at
``/docs/websocket``, with their templates and static files (``templates/endrpi/``, ``static/endrpi/``,
vendored libraries under ``static/endrpi/vendor/`` with a README saying where each comes from), and
the overrides that give the admin and the browsable API the dashboard's header and colours
(``overrides/``, found first through ``TEMPLATES["DIRS"]``). What the dashboard shows about the
header beyond the API (alternate functions, locks, pulls) is in ``header.py``; what each throttle
flag means, in ``throttle.py``. Pages read through the apps' services and the action table, never
through another edge's handlers.
"""
