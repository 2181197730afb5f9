"""Who may use the API: access tokens (model, admin, ``endrpi_token`` command), how each edge
reads them (:mod:`~endrpi_project.access.authentication` for REST, ``tokens.websocket_secret`` for
WebSocket), the one access rule (``tokens.access_check``), the origin and host checks, and the
per-connection limits. A Django app (label ``access``) because the tokens are a table.
"""
