"""What the REST and WebSocket edges share, and the bottom layer of Endrpi's own code.

- :mod:`~endrpi_project.api.errors`: the one application error type, its subclasses, and the one
  place each becomes an HTTP body (DRF's exception handler and the JSON 400/404/500 pages).
- :mod:`~endrpi_project.api.envelope`: the WebSocket envelope and its JSON codec.
- :mod:`~endrpi_project.api.actions`: how a WebSocket action is declared, and the name tables.
- :mod:`~endrpi_project.api.representation`: rendering with a serializer built once per class.
- :mod:`~endrpi_project.api.serializers`: the ``Message`` body and the schema's error responses.

It imports nothing else of Endrpi's: every other package may import it.
"""
