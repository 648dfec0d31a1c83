"""Executions: the table, their JSON shapes, submission and admission, dispatch, and the
lifecycle every end goes through (``lifecycle.finish``), with the reports, cancels and
sweeps that end them.

May import: app.nodes, app.webhooks, app.credentials, app.broker, app.extensions,
app.models, app.errors, config. Only ``store`` touches the executions table.
"""
