"""Consume agents' status reports from the Redis stream ``<ns>:reports``.

Every web worker (and the control worker) runs one consumer thread in the group
``control-plane``. An entry is acknowledged and deleted only after its report is
applied, so a consumer that dies leaves its entries pending; the others claim them
after ``AGENTFIELD_REPORT_CLAIM_IDLE_MS`` (30 s). Applying is idempotent (a terminal
row is never changed).
"""

import logging
import os
import socket
import threading
import time

import orjson
import redis
from flask import Flask

from app.broker.keys import Keys
from app.credentials import issue_missing
from app.executions import lifecycle
from app.executions.lifecycle import ExecutionAlreadyFinished
from app.executions.reports import apply_status_report
from app.extensions import connection
from config.errors import ControlPlaneError

log = logging.getLogger(__name__)

GROUP = "control-plane"
BATCH = 256
BLOCK_MS = 2000


class ReportConsumer:
    """Apply reports from the stream in a daemon thread until the process exits."""

    def __init__(self, app: Flask):
        config = app.extensions["agentfield_config"]
        self.app = app
        self.stream = Keys(config.namespace).reports
        self.name = f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
        url = config.redis_url or "redis://127.0.0.1:6379/0"
        self.redis = redis.Redis.from_url(url, socket_timeout=BLOCK_MS / 1000 + 10)
        self.claim_idle_ms = config.report_claim_idle_ms
        self._last_claim = 0.0
        self._stop = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="report-consumer", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._ensure_group()
                self._consume_forever()
            except redis.RedisError as exc:
                log.warning("report consumer: %s; retrying in 1 s", exc)
                time.sleep(1)

    def _ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _consume_forever(self) -> None:
        while not self._stop.is_set():
            self._claim_abandoned()
            batches = self.redis.xreadgroup(GROUP, self.name, {self.stream: ">"},
                                            count=BATCH, block=BLOCK_MS)
            for _stream, entries in batches or []:
                self._apply(entries)

    def _claim_abandoned(self) -> None:
        if time.monotonic() - self._last_claim < self.claim_idle_ms / 1000:
            return
        self._last_claim = time.monotonic()
        with self.app.app_context():
            issue_missing()  # credentials a dead process did not get to issue
        _next, entries, *_ = self.redis.xautoclaim(self.stream, GROUP, self.name,
                                                   self.claim_idle_ms, count=BATCH)
        if entries:
            log.warning("report consumer: took over %d abandoned reports", len(entries))
            self._apply(entries)

    def _apply(self, entries) -> None:
        done, finished = [], []
        with self.app.app_context(), connection() as conn:
            for entry_id, fields in entries:
                if fields:
                    apply_one(fields, conn, finished)
                done.append(entry_id)
            lifecycle.settle(finished, conn)
        pipe = self.redis.pipeline(transaction=False)
        pipe.xack(self.stream, GROUP, *done)
        pipe.xdel(self.stream, *done)
        pipe.execute()


def apply_one(fields: dict, conn=None, batch: list | None = None) -> None:
    """Apply one stream entry; a report that cannot apply is logged, never retried."""
    execution_id = fields.get(b"execution_id", b"").decode()
    try:
        apply_status_report(execution_id, orjson.loads(fields[b"report"]), conn, batch)
    except ExecutionAlreadyFinished:
        pass  # a duplicate report: the first outcome stands
    except (ControlPlaneError, KeyError, orjson.JSONDecodeError) as exc:
        log.error("report for %s rejected: %s", execution_id, exc)


def start_report_consumer(app: Flask) -> ReportConsumer:
    """Start this process's consumer (gunicorn's post_worker_init, the control worker)."""
    consumer = ReportConsumer(app)
    consumer.start()
    app.extensions["report_consumer"] = consumer
    return consumer
