"""Who may do what: API keys, their scopes, and the check every request passes.

May import: config, app.extensions, app.models, app.errors, app.keystore (never
app.executions or app.nodes, which ask here).
"""
