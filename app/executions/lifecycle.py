"""The execution lifecycle: every terminal transition goes through ``finish()``.

A report, a cancel, a timeout sweep and a failed enqueue all end an execution the same
way: one conditional UPDATE (a terminal row never changes again), then the on-finished
hooks. Each hook may queue Redis commands in the one pipeline an end costs (wake the
sync waiter, start the webhook, count the outcome for the circuit) and may settle
afterwards, off the caller's critical path (issue the credential), for a whole batch
of ends at once when the report consumer applies many.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis
from flask import Flask, current_app

from app.auth.errors import InsufficientScope
from app.auth.principal import Principal
from app.executions import store
from app.extensions import get_keys, get_redis
from app.models.types import as_utc
from config.errors import ControlPlaneError

log = logging.getLogger(__name__)

# (pipeline, finished row) -> None, or a callback that takes the results of the
# commands the hook queued.
Signal = Callable[[object, dict], Callable[[list], None] | None]
# (finished rows, connection or None) -> None; must not raise.
Settle = Callable[[list[dict], object], None]


@dataclass(frozen=True)
class Reporter:
    """Who reports an outcome, and the node they must own the execution as.

    ``id`` is recorded on the row (``key:<id>``, ``control-plane``) and named by the
    credential; None means nobody authenticated it (authentication is off), and such an
    outcome gets no credential. With ``node``, another node's execution is refused.
    """

    id: str | None
    node: str | None = None


CONTROL_PLANE = Reporter("control-plane")


def reporter_for(principal: Principal) -> Reporter:
    """The reporter a caller is: an admin reports for any node, a node key for its own.

    Raises:
        InsufficientScope: the key neither is admin nor acts as a node.
    """
    if principal.grants.admin:
        return Reporter(principal.reporter)
    if principal.grants.node is None:
        raise InsufficientScope("only an agent node's key reports outcomes",
                                {"required": "node"})
    return Reporter(principal.reporter, principal.grants.node)


class ExecutionAlreadyFinished(ControlPlaneError):
    """Raised when an execution that already has an outcome is asked to end again."""

    code = "execution_already_finished"
    status = 409


@dataclass(frozen=True)
class FinishHook:
    """Something every end of an execution triggers (see the module docstring)."""

    name: str
    signal: Signal | None = None
    settle: Settle | None = None


def init_lifecycle(app: Flask, hooks: list[FinishHook]) -> None:
    """Install the app's on-finished hooks, in the order they run."""
    app.extensions["finish_hooks"] = list(hooks)


def finish_hooks() -> list[FinishHook]:
    return current_app.extensions["finish_hooks"]


def start(execution_id: str, started_at: datetime | None, reporter: Reporter,
          conn=None) -> dict | None:
    """Move a queued execution to running; None if it is already past that.

    Raises:
        ExecutionNotFound, InsufficientScope (another node's execution).
    """
    row = store.mark_running(execution_id, started_at, reporter.node)
    if row is None and reporter.node is not None:
        check_owner(store.fetch_execution(execution_id, conn), reporter)
    return row


def finish(execution_id: str, outcome: dict, conn=None, batch: list | None = None, *,
           reporter: Reporter, fill_duration: bool = False) -> dict:
    """End an execution with ``outcome`` (status, result or error, times); return the row.

    The hooks' signals go out before this returns. Their settle step runs now, or,
    when ``batch`` is given, once for the whole batch when the caller calls
    ``settle(batch, conn)``.

    Raises:
        ExecutionNotFound: no such execution.
        InsufficientScope: the reporter acts as another node than the execution's.
        ExecutionAlreadyFinished: it already has an outcome.
    """
    row = store.finish_execution(execution_id, outcome, conn, reported_by=reporter.id,
                                 node_id=reporter.node)
    if row is None:
        current = store.fetch_execution(execution_id, conn)  # raises 404 when unknown
        check_owner(current, reporter)
        raise ExecutionAlreadyFinished(
            f"execution '{execution_id}' already ended as '{current['status']}'",
            {"execution_id": execution_id, "status": current["status"]},
        )
    if fill_duration and row["duration_ms"] is None:
        row = _with_duration(row)
    _signal(row)
    if batch is not None:
        batch.append(row)
    else:
        settle([row], conn)
    return row


def check_owner(row: dict, reporter: Reporter) -> None:
    """Refuse a report about another node's execution (403; nothing was changed)."""
    if reporter.node is not None and row["agent_node_id"] != reporter.node:
        log.warning("report for %s refused: it belongs to node %s, the reporter (%s) "
                    "acts as %s", row["execution_id"], row["agent_node_id"], reporter.id,
                    reporter.node)
        try:
            get_redis().incr(get_keys().refused_reports)
        except (redis.RedisError, OSError):
            pass  # the refusal stands; only its count is lost
        raise InsufficientScope(
            f"execution '{row['execution_id']}' belongs to another node; this key acts "
            f"as node '{reporter.node}'", {"required": f"node:{row['agent_node_id']}"})


def settle(rows: list[dict], conn=None) -> None:
    """Run every hook's settle step for rows that finished (never raises)."""
    if not rows:
        return
    for hook in finish_hooks():
        if hook.settle is None:
            continue
        try:
            hook.settle(rows, conn)
        except Exception:
            log.exception("on-finished hook %s failed for %d executions", hook.name,
                          len(rows))


def _signal(row: dict) -> None:
    """Queue every hook's commands in one pipeline, send it, hand back the results."""
    pipe = get_redis().pipeline(transaction=False)
    callbacks = []
    for hook in finish_hooks():
        if hook.signal is None:
            continue
        first = len(pipe)
        callback = hook.signal(pipe, row)
        if callback is not None:
            callbacks.append((callback, first, len(pipe)))
    if not len(pipe):
        return
    try:
        results = pipe.execute()
    except (redis.RedisError, OSError) as exc:
        # The row is the truth: a sync waiter re-reads it after each wait slice, and
        # the webhook sweep finds a delivery still pending.
        log.warning("end of %s not signalled (%s); waiters and sweeps will find it",
                    row["execution_id"], exc)
        return
    for callback, first, last in callbacks:
        callback(results[first:last])


def _with_duration(row: dict) -> dict:
    start_at = row["started_at"] or row["created_at"]
    end = row["completed_at"]
    if start_at is None or end is None:
        return row
    duration = max(0, int((as_utc(end) - as_utc(start_at)).total_seconds() * 1000))
    return store.set_duration(row["execution_id"], duration) or row

