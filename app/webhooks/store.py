"""The execution_webhooks and execution_webhook_events rows: register, claim, record."""

import base64
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, or_, select, update

from app.executions import store as executions_store
from app.extensions import connection, get_engine
from app.ids import new_id
from app.keystore import secret_box
from app.models import ExecutionWebhook, ExecutionWebhookEvent
from app.models.types import isoformat, utcnow
from app.webhooks.validation import WebhookRequest

webhooks = ExecutionWebhook.__table__
events = ExecutionWebhookEvent.__table__
_w = webhooks.c
PENDING, DELIVERING, DELIVERED, FAILED = "pending", "delivering", "delivered", "failed"
SEALED_PREFIX = "sealed:"


def register(execution_id: str, request: WebhookRequest) -> None:
    """Store the webhook (its secret sealed) before the execution row exists."""
    box = secret_box()
    sealed = box.seal(request.secret.encode()) if request.secret else None
    # Header values often carry tokens: sealed like the secret, names kept readable.
    headers = {name: SEALED_PREFIX + base64.b64encode(box.seal(value.encode())).decode()
               for name, value in (request.headers or {}).items()}
    now = utcnow()
    with connection() as conn:
        conn.execute(insert(webhooks).values(
            execution_id=execution_id, url=request.url, sealed_secret=sealed,
            headers=headers or None, state=PENDING, delivery_id=new_id("whd"),
            attempt_count=0, next_attempt_at=now, created_at=now, updated_at=now))


def discard(execution_id: str) -> None:
    """Drop a webhook registered for an execution that was never created (a replay)."""
    with connection() as conn:
        conn.execute(delete(webhooks).where(_w.execution_id == execution_id))


def _execution_finished():
    return executions_store.is_finished(_w.execution_id)


def _takeable(due_before: datetime, now: datetime):
    """Pending and due before ``due_before``, or delivering with an expired lease (its
    worker died), for an execution that has ended."""
    return and_(_execution_finished(),
                or_(and_(_w.state == PENDING, _w.next_attempt_at <= due_before),
                    and_(_w.state == DELIVERING, _w.lease_until < now)))


def claim(execution_id: str, lease_seconds: float) -> dict | None:
    """Take the delivery for one attempt if it is due and its execution has ended.

    A conditional UPDATE: of two workers holding the same task, one gets the row.
    A ``delivering`` row whose lease ran out (its worker died) can be taken again.
    """
    now = utcnow()
    statement = (
        update(webhooks)
        .where(_w.execution_id == execution_id, _takeable(now, now))
        .values(state=DELIVERING, lease_until=now + timedelta(seconds=lease_seconds),
                updated_at=now)
        .returning(*webhooks.c)
    )
    with connection() as conn:
        row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def fix_payload(execution_id: str, payload: str) -> None:
    with connection() as conn:
        conn.execute(update(webhooks).where(_w.execution_id == execution_id,
                                            _w.payload.is_(None)).values(payload=payload))


def open_headers(row: dict) -> dict[str, str]:
    """The webhook's custom headers with their values unsealed (older rows: as stored)."""
    box = secret_box()
    return {name: box.open(base64.b64decode(value[len(SEALED_PREFIX):])).decode()
            if value.startswith(SEALED_PREFIX) else value
            for name, value in (row["headers"] or {}).items()}


def open_secret(row: dict) -> str | None:
    sealed = row["sealed_secret"]
    return secret_box().open(sealed).decode() if sealed else None


def record_attempt(row: dict, attempt: dict, next_attempt_at: datetime | None) -> str:
    """Log one attempt and move the delivery on, in one transaction; return the state.

    ``attempt`` holds event_type, http_status, error_message, response_body, duration_ms
    and ``delivered``. Without ``next_attempt_at`` a failed attempt is the last one.
    """
    now = utcnow()
    attempt = dict(attempt)
    delivered = attempt.pop("delivered")
    if delivered:
        state = DELIVERED
    else:
        state = PENDING if next_attempt_at is not None else FAILED
    with get_engine().begin() as conn:
        conn.execute(insert(events).values(
            execution_id=row["execution_id"], delivery_id=row["delivery_id"],
            attempt=row["attempt_count"] + 1, status=DELIVERED if delivered else FAILED,
            created_at=now, **attempt))
        conn.execute(update(webhooks).where(_w.execution_id == row["execution_id"]).values(
            state=state, attempt_count=_w.attempt_count + 1, last_attempt_at=now,
            next_attempt_at=next_attempt_at, lease_until=None, updated_at=now,
            delivered_at=now if delivered else None,
            last_error=None if delivered else attempt.get("error_message")))
    return state


def reset_for_redelivery(execution_id: str) -> dict | None:
    """Make a delivered or failed webhook due again with a fresh retry budget.

    Returns the row, or None when it is being delivered right now.
    """
    now = utcnow()
    statement = (
        update(webhooks)
        .where(_w.execution_id == execution_id, _w.state != DELIVERING)
        .values(state=PENDING, attempt_count=0, next_attempt_at=now, lease_until=None,
                updated_at=now)
        .returning(*webhooks.c)
    )
    with connection() as conn:
        row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def fetch(execution_id: str) -> dict | None:
    with connection() as conn:
        row = conn.execute(select(webhooks).where(_w.execution_id == execution_id)
                           ).mappings().first()
    return dict(row) if row else None


def stalled(due_before: datetime, limit: int = 500) -> list[str]:
    """Ids of ended executions whose delivery is pending and due before ``due_before``,
    or stuck in ``delivering`` with an expired lease (its worker died)."""
    now = utcnow()
    statement = select(_w.execution_id).where(_takeable(due_before, now)).limit(limit)
    with connection() as conn:
        return list(conn.execute(statement).scalars())


def view(execution_id: str) -> tuple[dict | None, list[dict]]:
    """Render the webhook (never its secret or header values) and its attempts."""
    row = fetch(execution_id)
    if row is None:
        return None, []
    with connection() as conn:
        attempts = conn.execute(select(events).where(events.c.execution_id == execution_id)
                                .order_by(events.c.id)).mappings().all()
    summary = {
        "url": row["url"], "state": row["state"], "delivery_id": row["delivery_id"],
        "has_secret": row["sealed_secret"] is not None,
        "header_names": sorted(row["headers"] or {}),
        "attempt_count": row["attempt_count"],
        "next_attempt_at": isoformat(row["next_attempt_at"])
        if row["state"] == PENDING else None,
        "last_attempt_at": isoformat(row["last_attempt_at"]),
        "delivered_at": isoformat(row["delivered_at"]),
        "last_error": row["last_error"],
    }
    return summary, [_event_view(event) for event in attempts]


def _event_view(event) -> dict:
    return {
        "id": event["id"], "execution_id": event["execution_id"],
        "delivery_id": event["delivery_id"], "attempt": event["attempt"],
        "event_type": event["event_type"], "status": event["status"],
        "http_status": event["http_status"], "error_message": event["error_message"],
        "response_body": event["response_body"], "duration_ms": event["duration_ms"],
        "created_at": isoformat(event["created_at"]),
    }
