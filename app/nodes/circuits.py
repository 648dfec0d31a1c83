"""Circuit breaking per agent node: fail fast while a node cannot do the work.

A node's circuit opens when no worker of it heartbeats (``no_live_worker``) or when
too many of its recent executions failed or timed out (``failure_rate``). While open,
new executions get 503 ``agent_unavailable`` with ``Retry-After`` unless the caller asks
to queue anyway. After the cool-down (or as soon as a worker is back) it half-opens and
lets one probe execution through; the next success closes it, a failure reopens it.

State lives in Redis (``<ns>:circuit:<node>``), shared by every web process. The
outcome window is a capped list written in the same pipeline as the completion signal,
so a success costs no extra round trip.
"""

import logging
import time

from app.errors import AgentUnavailable
from app.extensions import get_config, get_keys, get_redis
from app.nodes.cache import load_node
from app.nodes.health import is_live

log = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
NO_LIVE_WORKER, FAILURE_RATE = "no_live_worker", "failure_rate"
NO_HEARTBEAT = "no worker has sent a heartbeat in its window"
_COUNTED = {"succeeded": b"1", "failed": b"0", "timeout": b"0"}
# A closed circuit read from Redis is trusted this long by each process, so the common
# case costs no round trip; an opening reaches every process within it. A call admitted
# by a process that has not seen the opening yet cannot close the circuit: only a
# probe (half-open) or a worker that is back (no_live_worker) does.
CLOSED_CACHE_SECONDS = 0.5
_seen_closed: dict[str, float] = {}


def _keys(node_id: str) -> tuple[str, str, str]:
    keys = get_keys()
    return keys.circuit(node_id), keys.circuit_probe(node_id), keys.circuit_outcomes(node_id)


def _settings(node_id: str) -> dict:
    config = get_config()
    try:
        limits = load_node(node_id)["limits"]
    except Exception:  # an unknown or unreadable node: the defaults
        limits = {}
    return {
        "failure_rate": limits.get("circuit_failure_rate") or config.circuit_failure_rate,
        "min_calls": limits.get("circuit_min_calls") or config.circuit_min_calls,
        "cooldown_seconds": limits.get("circuit_cooldown_seconds")
        or config.circuit_cooldown_seconds,
    }


def admit(node_id: str, queue_anyway: bool = False) -> None:
    """Let an execution for the node through, or raise AgentUnavailable (503)."""
    if not get_config().circuit_enabled:
        return
    if _seen_closed.get(node_id, 0.0) > time.monotonic() and is_live(node_id):
        return
    state_key, probe_key, _ = _keys(node_id)
    client = get_redis()
    state = {k.decode(): v.decode() for k, v in client.hgetall(state_key).items()}
    current = state.get("state", CLOSED)
    cooldown = _settings(node_id)["cooldown_seconds"]
    if not is_live(node_id):
        if current != OPEN or state.get("reason") != NO_LIVE_WORKER:
            _open(node_id, NO_LIVE_WORKER, NO_HEARTBEAT)
            state = {"opened_at": str(time.time())}
        current = OPEN
        reason = NO_LIVE_WORKER
    else:
        reason = state.get("reason")
        if current == CLOSED:
            _seen_closed[node_id] = time.monotonic() + CLOSED_CACHE_SECONDS
            return
        if current == OPEN:
            opened = float(state.get("opened_at", 0))
            if reason == NO_LIVE_WORKER or time.time() - opened >= cooldown:
                _transition(node_id, HALF_OPEN, reason, "probing with the next execution")
                current = HALF_OPEN
        if current == HALF_OPEN and (queue_anyway or client.set(
                probe_key, "1", nx=True, ex=max(1, int(cooldown)))):
            return
    if queue_anyway:
        return
    retry_after = _retry_after(current, state, cooldown)
    raise AgentUnavailable(
        f"agent '{node_id}' is unavailable ({reason}); retry in {retry_after} s, or send "
        "'X-Queue-If-Unavailable: true' to queue the work until it is back",
        {"node_id": node_id, "circuit": current, "reason": reason},
        retry_after=retry_after)


def _retry_after(current: str, state: dict, cooldown: float) -> int:
    if current == OPEN:
        left = cooldown - (time.time() - float(state.get("opened_at", time.time())))
        return max(1, int(left + 0.999))
    return max(1, int(cooldown))


def queue_outcome(pipe, row: dict) -> bool:
    """Add the execution's outcome to the node's window in ``pipe``; False if not counted.

    Queues three commands (LPUSH, LTRIM, HMGET state reason); ``settle`` takes the last
    result.
    """
    outcome = _COUNTED.get(row.get("status"))
    if outcome is None or not get_config().circuit_enabled:
        return False
    state_key, _, outcomes_key = _keys(row["agent_node_id"])
    pipe.lpush(outcomes_key, outcome)
    pipe.ltrim(outcomes_key, 0, get_config().circuit_window - 1)
    pipe.hmget(state_key, "state", "reason")
    return True


def settle(row: dict, state_and_reason: list[bytes | None]) -> None:
    """Move the circuit on after an outcome (the last result of ``queue_outcome``)."""
    node_id = row["agent_node_id"]
    state, reason = state_and_reason
    current = state.decode() if state else CLOSED
    if row["status"] == "succeeded":
        if current == HALF_OPEN or (current == OPEN and reason == NO_LIVE_WORKER.encode()
                                    and is_live(node_id)):
            _close(node_id)
        return
    if current == HALF_OPEN:
        _open(node_id, FAILURE_RATE, "the probe execution failed", again=True)
    elif current == CLOSED:
        settings = _settings(node_id)
        _, _, outcomes_key = _keys(node_id)
        window = get_redis().lrange(outcomes_key, 0, -1)
        failures = window.count(b"0")
        if len(window) >= settings["min_calls"] and \
                failures / len(window) >= settings["failure_rate"]:
            _open(node_id, FAILURE_RATE,
                  f"{failures} of the last {len(window)} executions failed or timed out")


# Open unless already open (two consumers may judge the same window): opened_at, and
# so the cool-down, then starts at the first opening. A failed probe reopens anew.
_OPEN = """
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'state') == 'open' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open', 'reason', ARGV[1], 'opened_at', ARGV[2],
           'why', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""


def _open(node_id: str, reason: str, why: str, again: bool = False) -> None:
    _seen_closed.pop(node_id, None)
    state_key, probe_key, _ = _keys(node_id)
    opened = get_redis().eval(_OPEN, 2, state_key, probe_key, reason, str(time.time()), why,
                              "0" if again else "1")
    if opened:
        log.warning("circuit of node %s opened: %s", node_id, why)


def _transition(node_id: str, state: str, reason: str | None, why: str) -> None:
    state_key, _, _ = _keys(node_id)
    get_redis().hset(state_key, mapping={"state": state, "reason": reason or "", "why": why})
    log.warning("circuit of node %s is %s: %s", node_id, state, why)


def _close(node_id: str) -> None:
    state_key, probe_key, outcomes_key = _keys(node_id)
    get_redis().delete(state_key, probe_key, outcomes_key)
    log.warning("circuit of node %s closed: an execution succeeded", node_id)


def describe(node_id: str) -> dict:
    """The circuit as ``GET /api/v1/nodes/{id}`` shows it."""
    state_key, _, outcomes_key = _keys(node_id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(state_key)
    pipe.lrange(outcomes_key, 0, -1)
    raw, window = pipe.execute()
    state = {k.decode(): v.decode() for k, v in raw.items()}
    current = state.get("state", CLOSED)
    if current == CLOSED and not is_live(node_id):
        current, state = OPEN, {"reason": NO_LIVE_WORKER, "why": NO_HEARTBEAT}
    return {"state": current, "reason": state.get("reason") or None,
            "why": state.get("why"), "opened_at": _iso(state.get("opened_at")),
            "recent_calls": len(window), "recent_failures": window.count(b"0"),
            **_settings(node_id)}


def _iso(epoch: str | None) -> str | None:
    if not epoch:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))
