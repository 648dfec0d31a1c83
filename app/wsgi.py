"""The web process's entry point: ``gunicorn "app.wsgi:application"`` (the Procfile's).

It refuses to serve while no one could authenticate: no ``AGENTFIELD_API_KEY`` and no
active key in the database, unless ``AGENTFIELD_AUTH_DISABLED=1`` says so by name (and
every start then logs it loudly). gunicorn stops when a worker cannot boot, so a
misconfigured deploy fails at once instead of answering 401 to everyone.
"""

from app import create_app
from app.auth.keys import any_key_configured
from config.errors import ConfigError


def serving_app():
    """Build the app and check that it can be used safely; raise ConfigError if not."""
    app = create_app()
    if app.extensions["agentfield_config"].auth_disabled:
        return app
    with app.app_context():
        if not any_key_configured():
            raise ConfigError(
                "no API key is configured, so no one could use this server: set "
                "AGENTFIELD_API_KEY (a full-access key), or create one with "
                "`flask --app app:create_app keys create --name admin --scope admin`; "
                "only for a closed network, AGENTFIELD_AUTH_DISABLED=1 turns "
                "authentication off")
    return app


application = serving_app()
