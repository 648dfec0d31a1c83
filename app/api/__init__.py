"""REST blueprints under /api/v1 (AgentField's public API)."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.api import (
        execute,
        executions,
        health,
        identity,
        keys,
        memory,
        nodes,
        notes,
        runs,
        vector,
    )
    from app.openapi import bp as openapi_bp

    for module in (nodes, execute, executions, notes, health, identity, memory, vector, runs,
                   keys):
        app.register_blueprint(module.bp)
    app.register_blueprint(executions.ui_bp)
    app.register_blueprint(openapi_bp)  # GET /openapi.json, built from the views' api_doc
