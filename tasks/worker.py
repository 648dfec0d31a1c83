"""The Celery app the control plane's worker, beat and Flower run (``-A tasks.worker``)."""

from celery import signals

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.flask_app = flask_app


@signals.worker_ready.connect
def _consume_reports(sender=None, **_):
    # The control worker applies status reports too, so they land while web is down.
    from app.report_stream import start_report_consumer

    start_report_consumer(flask_app)
