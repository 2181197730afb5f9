"""Endrpi over MQTT: the bridge to a broker, Home Assistant discovery, and the fleet of Pis.

- ``broker``: the broker's address from ``ENDRPI_MQTT_URL`` (host, port, credentials, TLS).
- ``topics``: the node id and every topic name (``endrpi/<node>/...``), written once.
- ``discovery``: Home Assistant discovery configs (pure functions of the device and the pins).
- ``fleet``: what the server knows of every Endrpi on the broker, from their retained topics.
- ``bridge``: the one connection, on the server's event loop: publishes availability, readings,
  pin states (from the same change events as WebSocket push) and discovery; takes commands;
  reconnects with backoff forever.
- ``services``: ``start``/``stop`` (the start-up hook), commands through the pins service, the fleet.
- ``views``/``urls`` (``GET /fleet``, JSON or the page), ``actions`` (``READ_FLEET``, topic ``FLEET``).
"""
