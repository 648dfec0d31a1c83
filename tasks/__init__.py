"""Entry points of the control plane's Celery processes: the worker, beat, Flower.

May import: app, config, celery. Nothing imports tasks (app/broker/ owns the wire
names and the Celery settings, so app never reaches back here).
"""
