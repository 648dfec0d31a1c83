"""The Celery app the control plane's worker, beat and Flower run (``-A tasks.worker``)."""

import logging

from celery import signals

from app import create_app
from app.executions.report_stream import start_report_consumer
from app.webhooks.delivery import sweep

flask_app = create_app()
celery = flask_app.extensions["celery"]


@signals.worker_ready.connect
def _consume_reports(sender=None, **_):
    # The control worker applies status reports too, so they land while web is down.
    start_report_consumer(flask_app)


@signals.worker_ready.connect
def _resume_webhooks(sender=None, **_):
    # Tasks a killed worker held (countdowns included) are gone; the rows are not.
    with flask_app.app_context():
        try:
            sweep(None)
        except Exception:  # the beat sweep tries again; never stop the worker starting
            logging.getLogger(__name__).exception("webhook sweep at start-up failed")
