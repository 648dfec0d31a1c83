"""The Celery app the control plane's worker, beat and Flower run (``-A tasks.worker``)."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.flask_app = flask_app
