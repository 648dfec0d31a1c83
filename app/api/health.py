"""Health: 200 when PostgreSQL (or SQLite) and Redis answer, 503 naming what does not."""

import time

import redis
from flask import Blueprint
from sqlalchemy import text

from app.auth.policy import requires
from app.extensions import get_engine, get_keys, get_redis
from app.models.types import isoformat, utcnow
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("health", __name__, url_prefix="/api/v1")


@bp.get("/health")
@api_doc("Health of the database and Redis", responses={200: S.HEALTH, 503: S.HEALTH})
@requires("public")
def health():
    checks = {"storage": _check(_ping_database), "cache": _check(_ping_redis)}
    healthy = all(check["status"] == "healthy" for check in checks.values())
    body = {"status": "healthy" if healthy else "unhealthy",
            "timestamp": isoformat(utcnow()), "version": "0.1.0", "checks": checks,
            "reports": _report_counts()}
    if not healthy:
        body["unhealthy"] = [name for name, c in checks.items() if c["status"] != "healthy"]
    return body, 200 if healthy else 503


def _ping_database() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _report_counts() -> dict:
    """Reports the consumers set aside (``<ns>:reports:dead``), and those refused as
    not coming from the execution's node (``<ns>:reports:refused``)."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.xlen(get_keys().dead_reports)
        pipe.get(get_keys().refused_reports)
        dead, refused = pipe.execute()
        return {"dead_letters": dead, "refused": int(refused or 0)}
    except redis.RedisError:
        return {"dead_letters": None, "refused": None}


def _ping_redis() -> None:
    get_redis().ping()


def _check(probe) -> dict:
    start = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure means unhealthy; say which and why
        return {"status": "unhealthy", "message": f"{type(exc).__name__}: {exc}"[:300]}
    elapsed = (time.perf_counter() - start) * 1000
    return {"status": "healthy", "message": "ok", "response_time_ms": round(elapsed, 2)}
