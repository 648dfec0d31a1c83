"""gunicorn settings: threaded workers, so many sync requests can wait at once."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("AGENTFIELD_WEB_THREADS", "32"))
# A sync execute may wait up to AGENTFIELD_SYNC_TIMEOUT (90 s) for its result.
timeout = int(float(os.environ.get("AGENTFIELD_SYNC_TIMEOUT", "90"))) + 30
graceful_timeout = 25
keepalive = 30
accesslog = os.environ.get("AGENTFIELD_ACCESS_LOG") or None


def post_worker_init(worker):
    """Each web worker also applies agents' status reports from the Redis stream."""
    from app.report_stream import start_report_consumer

    start_report_consumer(worker.wsgi)
