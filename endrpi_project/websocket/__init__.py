"""The WebSocket edge: the consumer base that owns the envelope, dispatch through the action
table, access checks, limits and a connection's subscriptions (:mod:`~endrpi_project.websocket.consumers`),
and the tables joined from every installed app's ``actions`` module (:mod:`~endrpi_project.websocket.registry`).
A new action or push topic is declared in its app's ``actions.py``, never here.
"""
