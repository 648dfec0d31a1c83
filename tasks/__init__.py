"""Celery: the app's settings, queue routing, and the control plane's own tasks.

May import: config, app.models, app.extensions, memory, identity (never app.api).
"""
