"""Handler registration that names each handler once: the event types it takes come from its own annotation.

Without this a route table repeats every handler three times (a wrapper binding the dependencies, the wrapper's
name in the table, and the event type beside it), and nothing stops the table and the handler's signature from
drifting apart.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from contracts import catalog
from runtime.handling import Handler, HandlerContext

D = TypeVar("D")

BoundHandler = Callable[[D, HandlerContext, Any], Awaitable[None]]
"""A handler as written: its dependencies, the handler context, and the event data (last, annotated)."""


def event_types(handler: Callable[..., Awaitable[None]]) -> tuple[type, ...]:
    """The event data classes a handler takes: its last parameter's annotation, or each member of a union."""
    last = list(inspect.signature(handler).parameters)[-1]
    annotation = typing.get_type_hints(handler)[last]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def by_event_type(deps: D, *handlers: BoundHandler[D]) -> dict[str, Handler]:
    """Event type name -> handler bound to `deps`, for every event type each handler is annotated to take."""
    routes: dict[str, Handler] = {}
    for handler in handlers:
        bound: Handler = functools.partial(handler, deps)
        for model in event_types(handler):
            name = catalog.of(model).name
            if name in routes:
                raise ValueError(f"event type {name} has two handlers; {handler.__name__} is the second")
            routes[name] = bound
    return routes
