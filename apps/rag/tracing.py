"""One span per node: each node is wrapped so its duration and what it handled land in the state."""

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lib.telemetry.metrics import GRAPH_NODE_DURATION

NodeFn = Callable[..., Awaitable[dict[str, Any]]]


def traced(name: str) -> Callable[[NodeFn], NodeFn]:
    """Wrap an async node: its result gains a span with the node's name and duration.

    A node puts what its span should say (model, tokens, chunk ids, scores, notes) under the
    key "span" of its result; the wrapper moves it into the state's span list.
    """

    def decorate(node: NodeFn) -> NodeFn:
        @functools.wraps(node)
        async def run(state: dict[str, Any], runtime: Any) -> dict[str, Any]:
            started, started_ns = time.perf_counter(), time.time_ns()
            try:
                result = await node(state, runtime)
            finally:  # a node that failed or was cancelled took its time too
                elapsed_s = time.perf_counter() - started
                GRAPH_NODE_DURATION.labels(name).observe(elapsed_s)
            span = {"node": name, **result.pop("span", {})}
            span["duration_ms"] = round(elapsed_s * 1000, 2)
            span["started_ns"] = started_ns  # wall clock, for the OpenTelemetry export
            return {**result, "spans": [span]}

        return run

    return decorate
