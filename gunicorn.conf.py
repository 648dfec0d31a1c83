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
