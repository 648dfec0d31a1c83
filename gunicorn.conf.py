"""gunicorn settings: threaded workers, so many sync requests can wait at once.

An SSE stream holds a thread for as long as it is open: each worker serves at most half
its threads' worth of streams (app/streams.py), so requests always find a thread.
"""

import os

# Platforms (Render, Railway, Heroku) route to 0.0.0.0:$PORT; `make run` binds loopback.
bind = f"{os.environ.get('AGENTFIELD_HOST') or '0.0.0.0'}:{os.environ.get('PORT', '8080')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("AGENTFIELD_WEB_THREADS", "32"))
# A sync execute may wait up to AGENTFIELD_SYNC_TIMEOUT (90 s) for its result.
timeout = int(float(os.environ.get("AGENTFIELD_SYNC_TIMEOUT", "90"))) + 30
graceful_timeout = 25
keepalive = 30
accesslog = os.environ.get("AGENTFIELD_ACCESS_LOG") or None
# The path without its query string, and no Referer: event streams may carry their API
# key as ?api_key=, which must not land in a log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_worker_init(worker):
    """Each web worker also applies agents' status reports from the Redis stream."""
    import signal

    from app.executions.report_stream import start_report_consumer
    from app.streams import SHUTTING_DOWN, limit_streams

    start_report_consumer(worker.wsgi)
    # SSE streams hold a thread each: keep at least half of them for requests.
    limit_streams(worker.wsgi, worker.cfg.threads)
    previous = signal.getsignal(signal.SIGTERM)

    def end_streams_then_stop(signum, frame):
        SHUTTING_DOWN.set()  # SSE streams end at their next read instead of holding shutdown
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, end_streams_then_stop)
