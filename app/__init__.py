"""The control plane's Flask app: factory, models, REST blueprints.

May import: config, memory, identity (never tasks, which imports app, nor agent_sdk).
"""

import logging

from flask import Flask

from config import Config


def create_app(config: Config | None = None) -> Flask:
    """Build the control plane app; ``None`` reads the settings from the environment."""
    from app.api import register_blueprints
    from app.api.params import init_url_checks
    from app.auth.cli import init_cli
    from app.auth.guard import init_auth
    from app.errors import register_error_handlers
    from app.executions.hooks import DEFAULT_HOOKS
    from app.executions.lifecycle import init_lifecycle
    from app.extensions import init_celery, init_db, init_redis
    from app.jsonio import OrjsonProvider

    config = config or Config.from_env()
    logging.basicConfig(level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, instance_relative_config=True)
    app.json = OrjsonProvider(app)
    # Werkzeug answers 413 before reading a longer body (chunked ones: once past it).
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    init_url_checks(app)
    app.extensions["agentfield_config"] = config
    init_db(app, config)
    init_redis(app, config)
    init_celery(app, config)
    init_lifecycle(app, DEFAULT_HOOKS)
    register_error_handlers(app)
    init_auth(app)
    register_blueprints(app)
    init_cli(app)
    from app import models  # noqa: F401  (tables must be known to migrations)
    return app

