"""Deliver one webhook attempt, then schedule the next one or settle the outcome."""

import http.client
import logging
import random
import time
from datetime import timedelta

import orjson

from app.errors import ExecutionNotFinished, WebhookDeliveryInProgress, WebhookNotRegistered
from app.executions import store
from app.executions.views import webhook_payload
from app.extensions import get_config, get_redis
from app.models.types import as_utc, utcnow
from app.status import TERMINAL
from app.webhooks import store as webhooks
from app.webhooks.signing import signature_headers
from app.webhooks.transport import DeadlineExceeded, post
from app.webhooks.trigger import enqueue_delivery
from app.webhooks.validation import UnsafeDestination, resolve_destination

log = logging.getLogger(__name__)

USER_AGENT = "AgentField-Webhook/1.0"
RESPONSE_EXCERPT = 1024  # bytes of the receiver's answer kept with the attempt


def build_payload(row: dict) -> bytes:
    """The webhook body of a finished execution, as the bytes that get signed."""
    return orjson.dumps(webhook_payload(row))


def retry_delay(attempts_made: int, base: float, cap: float) -> float:
    """Exponential backoff (base, 2·base, 4·base … up to cap) with ±20 % jitter."""
    delay = min(cap, base * (2 ** max(0, attempts_made - 1)))
    return delay * random.uniform(0.8, 1.2)


def deliver(execution_id: str) -> tuple[str, float | None]:
    """Make one attempt if the delivery is due; return (state, seconds to the next try).

    The state is "skipped" when another worker holds the delivery or there is nothing
    to do, "not_due" (with the seconds left) when the task came before the due time.
    """
    config = get_config()
    row = webhooks.claim(execution_id, lease_seconds=config.webhook_timeout + 30)
    if row is None:
        return _not_claimed(execution_id)
    if row["payload"] is None:
        row["payload"] = build_payload(store.fetch_execution(execution_id)).decode()
        webhooks.fix_payload(execution_id, row["payload"])
    attempt = _attempt(row, config)
    made = row["attempt_count"] + 1
    delay = None
    if not attempt["delivered"] and made < config.webhook_max_attempts:
        delay = retry_delay(made, config.webhook_retry_base, config.webhook_retry_cap)
    next_at = utcnow() + timedelta(seconds=delay) if delay is not None else None
    state = webhooks.record_attempt(row, attempt, next_at)
    if state == webhooks.FAILED:
        log.warning("webhook for %s failed after %d attempts: %s", execution_id, made,
                    attempt.get("error_message"))
    return state, delay


def _not_claimed(execution_id: str) -> tuple[str, float | None]:
    """A task that came early (a sweep at start-up) waits for the due time; others stop."""
    row = webhooks.fetch(execution_id)
    if row is None or row["state"] != webhooks.PENDING or row["next_attempt_at"] is None:
        return "skipped", None
    wait = (as_utc(row["next_attempt_at"]) - utcnow()).total_seconds()
    return ("not_due", wait) if wait > 0 else ("skipped", None)


def _attempt(row: dict, config) -> dict:
    body = row["payload"].encode()
    event = orjson.loads(body)["event"]
    headers = {**webhooks.open_headers(row),
               "Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-AgentField-Event": event, "X-AgentField-Delivery": row["delivery_id"],
               "X-AgentField-Attempt": str(row["attempt_count"] + 1),
               **signature_headers(webhooks.open_secret(row), int(time.time()), body)}
    outcome = {"event_type": event, "http_status": None, "error_message": None,
               "response_body": None, "delivered": False}
    started = time.monotonic()
    try:
        # Resolved and checked once per attempt; the connection goes to that address.
        destination = resolve_destination(row["url"], config.webhook_allow_private)
        answer = post(destination, body, headers, deadline=config.webhook_timeout,
                      excerpt_bytes=RESPONSE_EXCERPT)
        outcome["http_status"] = answer.status
        outcome["response_body"] = answer.excerpt.decode("utf-8", "replace") or None
        if 200 <= answer.status < 300:
            outcome["delivered"] = True
        else:
            outcome["error_message"] = f"receiver answered HTTP {answer.status}"
    except (UnsafeDestination, DeadlineExceeded) as exc:
        outcome["error_message"] = str(exc)
    except (OSError, http.client.HTTPException) as exc:
        outcome["error_message"] = f"{type(exc).__name__}: {exc}"[:500]
    outcome["duration_ms"] = int((time.monotonic() - started) * 1000)
    return outcome


def request_redelivery(execution_id: str) -> dict:
    """Make a finished execution's webhook due again (a fresh retry budget); return it.

    Raises:
        ExecutionNotFound, WebhookNotRegistered, ExecutionNotFinished,
        WebhookDeliveryInProgress.
    """
    execution = store.fetch_execution(execution_id)
    if not execution["has_webhook"]:
        raise WebhookNotRegistered(f"execution '{execution_id}' has no webhook",
                                   {"execution_id": execution_id})
    if execution["status"] not in TERMINAL:
        raise ExecutionNotFinished(
            f"execution '{execution_id}' is still {execution['status']}; its webhook is "
            "sent when it ends", {"execution_id": execution_id, "status": execution["status"]})
    row = webhooks.reset_for_redelivery(execution_id)
    if row is None:
        raise WebhookDeliveryInProgress(
            f"the webhook of '{execution_id}' is being delivered right now; try again "
            "after this attempt", {"execution_id": execution_id})
    enqueue_delivery(get_redis(), execution_id)
    log.info("webhook of %s queued for redelivery", execution_id)
    return row


def sweep(slack_seconds: float | None) -> list[str]:
    """Send a new task for every delivery whose task seems lost; return their ids.

    Periodically: those overdue by ``slack_seconds``. At a worker's start (``None``):
    every pending one, since the tasks a killed worker held are gone; one that is not
    due yet waits for its time in a countdown.
    """
    if slack_seconds is None:
        due_before = utcnow() + timedelta(days=365)
    else:
        due_before = utcnow() - timedelta(seconds=slack_seconds)
    ids = webhooks.stalled(due_before)
    if ids:
        pipe = get_redis().pipeline(transaction=False)
        for execution_id in ids:
            enqueue_delivery(pipe, execution_id)
        pipe.execute()
        log.warning("re-sent %d webhook deliveries whose task was lost", len(ids))
    return ids
