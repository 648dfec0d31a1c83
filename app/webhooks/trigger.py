"""Put a delivery task on the webhooks queue (one LPUSH, no Celery producer needed)."""

import uuid

from app.broker.envelope import task_envelope
from app.broker.names import DELIVER_WEBHOOK_TASK, WEBHOOKS_QUEUE


def delivery_message(execution_id: str) -> bytes:
    return task_envelope(WEBHOOKS_QUEUE, str(uuid.uuid4()), {"execution_id": execution_id},
                         task=DELIVER_WEBHOOK_TASK)


def enqueue_delivery(client, execution_id: str) -> None:
    """LPUSH a delivery task; ``client`` may be a Redis client or a pipeline."""
    client.lpush(WEBHOOKS_QUEUE, delivery_message(execution_id))
