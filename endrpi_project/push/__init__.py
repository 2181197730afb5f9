"""Passive actions: the server pushes pin changes and readings to the clients that subscribed.

- :mod:`~endrpi_project.push.hub` puts passive messages onto the Channels channel layer, in order,
  from any thread (a service, a gpiozero edge callback, a poller).
- :mod:`~endrpi_project.push.topics` describes what a client can subscribe to: event topics (pin
  changes, published by the code that changes pins) and reading topics (one shared poller per
  topic and interval).
- :mod:`~endrpi_project.push.outbox` is one connection's bounded, coalescing queue of passive
  messages, paused while the client's socket is not draining.
- :mod:`~endrpi_project.push.subscriptions` holds one connection's subscriptions and the
  ``SUBSCRIBE`` / ``UNSUBSCRIBE`` actions.
"""
