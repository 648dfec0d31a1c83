"""Plain Celery baseline: the same broker settings as an agent worker, no control plane.

The worker runs as ``celery -A raw_celery worker -P threads -c 8 -Q bench.raw`` with this
folder on PYTHONPATH; BENCH_RAW_REDIS_URL names the Redis database used as broker, result
backend and counter store.
"""

import os

import redis
from celery import Celery

REDIS_URL = os.environ.get("BENCH_RAW_REDIS_URL", "redis://127.0.0.1:6379/12")
QUEUE = "bench.raw"

app = Celery("raw-bench", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    result_expires=600,
)

_counter = redis.Redis.from_url(REDIS_URL)


@app.task(name="bench.noop")
def noop() -> None:
    """Do nothing; the caller waits for the (empty) result."""


@app.task(name="bench.count", ignore_result=True)
def count(key: str) -> None:
    """Add one to ``key``: the bulk run counts finished tasks this way."""
    _counter.incr(key)
