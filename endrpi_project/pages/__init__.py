"""The pages a person opens in a browser: the dashboard at ``/`` and the WebSocket API page at
``/docs/websocket``, with their templates and static files (``templates/endrpi/``, ``static/endrpi/``).
Pages read through the apps' services and the action table, never through another edge's handlers.
"""
