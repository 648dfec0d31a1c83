"""Agent nodes: registration, liveness, the per-process lookup cache, limits, circuits.

May import: app.extensions, app.models, app.errors, app.broker, app.keystore, config.
Never app.executions (executions ask nodes, not the other way round).
"""
