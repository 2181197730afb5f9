"""The WebSocket action table and the push topic table, joined from every installed app.

An app offers WebSocket actions and push topics by listing them as ``ACTIONS`` and ``TOPICS`` in
its ``actions`` module (``pins/actions.py``, ...). Each declared reading
(:func:`endrpi_project.readings.registry.reading_table`) adds its ``READ_<NAME>`` action and
``<NAME>`` topic, first. The tables are built
once, after Django's app registry is ready, in ``INSTALLED_APPS`` order, with ``SUBSCRIBE`` and
``UNSUBSCRIBE`` for the joined topics. The consumer dispatches through :func:`action_table` and
the WebSocket API page is generated from it, so the two cannot drift apart; a name declared
twice is an error at start-up.

The apps are found through Django's registry (as the admin finds ``admin`` modules), so this
package never imports an app: the arrows point from the apps down to ``api`` and ``push``.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

from django.apps import apps

from endrpi_project.api.actions import Action, ActionTable
from endrpi_project.push.subscriptions import subscription_actions
from endrpi_project.push.topics import Topic, TopicTable
from endrpi_project.readings.registry import reading_actions, reading_topics

MODULE = "actions"


def _action_modules() -> list[ModuleType]:
    modules = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE}"
        if find_spec(name) is not None:
            modules.append(import_module(name))
    return modules


@cache
def topic_table() -> TopicTable:
    """Every declared reading's topic, then every app's ``TOPICS``."""
    groups: list[list[Topic]] = [list(reading_topics())]
    groups += [list(getattr(module, "TOPICS", [])) for module in _action_modules()]
    return TopicTable(*groups)


@cache
def action_table() -> ActionTable:
    """Every declared reading's action, every app's ``ACTIONS``, then ``SUBSCRIBE`` and ``UNSUBSCRIBE``."""
    groups: list[list[Action]] = [reading_actions()]
    groups += [list(getattr(module, "ACTIONS", [])) for module in _action_modules()]
    return ActionTable(*groups, subscription_actions(topic_table()))
