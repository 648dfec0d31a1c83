"""Consume agents' status reports from the Redis stream ``<ns>:reports``.

Every web worker (and the control worker) runs one consumer thread in the group
``control-plane``. An entry is acknowledged and deleted only after its report is
applied, so a consumer that dies leaves its entries pending; the others claim them
after ``AGENTFIELD_REPORT_CLAIM_IDLE_MS`` (30 s). Applying is idempotent (a terminal
row is never changed).

No entry can stop a consumer. A terminal report whose content cannot be recorded ends
its execution ``failed`` (``error_type`` ``result_not_storable`` or ``invalid_report``)
through ``lifecycle.finish``, so a sync caller wakes. An entry that is not a report
(no valid execution id, not a JSON object, an unknown execution, a malformed
``running`` report) is copied to ``<ns>:reports:dead`` (capped; its length is shown by
``GET /api/v1/health``). Both are acknowledged. Only an outage of the database or Redis
leaves a batch pending, to be claimed again once it is over.
"""

import logging
import os
import socket
import threading
import time

import orjson
import redis
import sqlalchemy.exc
from flask import Flask

from app.auth.errors import InsufficientScope
from app.broker.keys import Keys
from app.credentials import issue_missing
from app.errors import BadRequest, ExecutionNotFound
from app.executions import lifecycle
from app.executions.lifecycle import ExecutionAlreadyFinished
from app.executions.reports import apply_status_report, check_execution_id
from app.executions.signatures import ForgedReport, count_refused_report, reporter_of_entry
from app.extensions import connection
from app.models.types import utcnow
from app.status import FAILED, TERMINAL, normalise_status

log = logging.getLogger(__name__)

GROUP = "control-plane"
BATCH = 256
BLOCK_MS = 2000
# The broker runs with noeviction, so what a flood of garbage can leave behind is
# bounded: about 10,000 entries of at most ~2.5 KiB each (~25 MB), enough to diagnose.
DEAD_MAXLEN = 10_000  # dead-letter entries kept (approximately)
DEAD_REPORT_BYTES = 2048  # of each dead entry's report
# An outage, not a bad entry: the batch stays pending and is claimed again.
OUTAGES = (redis.RedisError, sqlalchemy.exc.OperationalError,
           sqlalchemy.exc.InterfaceError)


class NotAReport(Exception):
    """Raised for a stream entry that is no report of a known execution."""


class ReportConsumer:
    """Apply reports from the stream in a daemon thread until the process exits."""

    def __init__(self, app: Flask):
        config = app.extensions["agentfield_config"]
        self.app = app
        self.stream = Keys(config.namespace).reports
        self.dead = Keys(config.namespace).dead_reports
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
            except OUTAGES as exc:
                log.warning("report consumer: %s; retrying in 1 s", exc)
                time.sleep(1)
            except Exception:  # a bug must not end the thread: log it, go on
                log.exception("report consumer failed; retrying in 1 s")
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
        done, finished, dead = [], [], []
        with self.app.app_context(), connection() as conn:
            for entry_id, fields in entries:
                reason = apply_one(fields, conn, finished) if fields else None
                if reason is not None:
                    dead.append(self._dead_entry(entry_id, fields, reason))
                done.append(entry_id)
            lifecycle.settle(finished, conn)
        pipe = self.redis.pipeline(transaction=False)
        for entry in dead:
            pipe.xadd(self.dead, entry, maxlen=DEAD_MAXLEN, approximate=True)
        pipe.xack(self.stream, GROUP, *done)
        pipe.xdel(self.stream, *done)
        pipe.execute()

    def _dead_entry(self, entry_id, fields: dict, reason: str) -> dict:
        return {"entry_id": entry_id, "reason": reason[:500], "consumer": self.name,
                "at": utcnow().isoformat(),
                "execution_id": (fields.get(b"execution_id") or b"")[:200],
                "report": (fields.get(b"report") or b"")[:DEAD_REPORT_BYTES]}


def apply_one(fields: dict, conn=None, batch: list | None = None) -> str | None:
    """Apply one stream entry; return why it was set aside, or None when it is done.

    Never raises for what the entry holds (an outage of the database or Redis does).
    """
    try:
        execution_id, body = read_entry(fields)
        reporter = reporter_of_entry(fields, execution_id)
        try:
            apply_status_report(execution_id, body, conn, batch, reporter=reporter)
        except BadRequest as exc:
            if normalise_status(body.get("status")) not in TERMINAL:
                raise NotAReport(f"{exc.code}: {exc}") from None
            code = exc.code if exc.code == "result_not_storable" else "invalid_report"
            _fail(execution_id, code, str(exc), conn, batch, reporter)
        except (ExecutionAlreadyFinished, ExecutionNotFound, InsufficientScope, *OUTAGES):
            raise
        except Exception as exc:  # the database refused what validation let through
            log.exception("report for %s could not be recorded", execution_id)
            _fail(execution_id, "result_not_storable",
                  f"{type(exc).__name__}: {exc}"[:500], conn, batch, reporter)
    except ExecutionAlreadyFinished:
        return None  # a duplicate report: the first outcome stands
    except ForgedReport as exc:
        return _rejected(fields, f"forged_report: {exc}", refused=True)
    except InsufficientScope as exc:  # another node's execution (counted by the check)
        return _rejected(fields, f"forged_report: {exc}")
    except (ExecutionNotFound, NotAReport) as exc:
        return _rejected(fields, f"{getattr(exc, 'code', 'not_a_report')}: {exc}")
    except OUTAGES:
        raise
    except Exception as exc:  # not even its failure could be recorded
        log.exception("report entry could not be applied")
        return _rejected(fields, f"not_recordable: {type(exc).__name__}: {exc}")
    return None


def read_entry(fields: dict) -> tuple[str, dict]:
    """The execution id and the report of a stream entry (raises NotAReport)."""
    try:
        execution_id = (fields.get(b"execution_id") or b"").decode()
        check_execution_id(execution_id)
    except (UnicodeDecodeError, ExecutionNotFound):
        raise NotAReport("no valid execution_id") from None
    try:
        body = orjson.loads(fields[b"report"])
    except KeyError:
        raise NotAReport("no report field") from None
    except orjson.JSONDecodeError as exc:
        raise NotAReport(f"the report is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise NotAReport("the report is not a JSON object")
    return execution_id, body


def _fail(execution_id: str, error_type: str, why: str, conn, batch,
          reporter: lifecycle.Reporter) -> None:
    """End the execution failed: its report arrived but cannot be recorded as sent."""
    log.error("report for %s rejected (%s): %s", execution_id, error_type, why)
    lifecycle.finish(execution_id, {
        "status": FAILED, "result_payload": None, "error_type": error_type,
        "error_message": f"the agent's report could not be recorded: {why}",
        "completed_at": utcnow()}, conn, batch, reporter=reporter, fill_duration=True)


def _rejected(fields: dict, reason: str, refused: bool = False) -> str:
    log.error("report entry rejected (set aside in the dead-letter stream): %s; "
              "execution_id=%.80r", reason, fields.get(b"execution_id"))
    if refused:
        count_refused_report()
    return reason


def start_report_consumer(app: Flask) -> ReportConsumer:
    """Start this process's consumer (gunicorn's post_worker_init, the control worker)."""
    consumer = ReportConsumer(app)
    consumer.start()
    app.extensions["report_consumer"] = consumer
    return consumer
