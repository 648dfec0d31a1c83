"""``flask keys``: create, list and revoke API keys from the command line.

Run with the app, e.g. ``flask --app app:create_app keys create --name ci --scope
execute``. ``create`` prints the token once; ``--token-only`` prints nothing else (for
scripts).
"""

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from app.auth.keys import create_key, list_keys, revoke_key, revoke_named
from app.models.types import utcnow
from config.errors import ControlPlaneError

keys_cli = AppGroup("keys", help="Create, list and revoke API keys.")


@keys_cli.command("create")
@click.option("--name", required=True, help="Who or what holds the key.")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="A scope (repeat): admin, execute[:<node>], executions:read, "
                   "memory:<read|write>[:<scope>[:<id>]], node:<node>.")
@click.option("--expires-in", type=click.IntRange(min=1), default=None,
              help="Seconds until the key stops working.")
@click.option("--rate-limit", type=click.FloatRange(min=0.001), default=None,
              help="Requests a second (a token bucket).")
@click.option("--rate-burst", type=click.IntRange(min=1), default=None,
              help="Bucket size (default: the rate, rounded up).")
@click.option("--replace", is_flag=True,
              help="Revoke the active keys of the same name first.")
@click.option("--token-only", is_flag=True, help="Print only the token.")
def create_command(name, scopes, expires_in, rate_limit, rate_burst, replace, token_only):
    """Create a key and print its token (shown this once)."""
    try:
        if replace:
            revoke_named(name)
        view, token = create_key(
            name, list(scopes), rate_limit=rate_limit, rate_burst=rate_burst,
            expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None)
    except ControlPlaneError as exc:
        raise click.UsageError(str(exc)) from None
    if token_only:
        click.echo(token)
        return
    click.echo(f"created {view['prefix']} ({view['name']}) with scopes "
               f"{', '.join(view['scopes'])}")
    click.echo(f"token (shown once): {token}")


@keys_cli.command("list")
def list_command():
    """List keys: id, state, name, scopes."""
    for key in list_keys():
        state = "active" if key["active"] else ("revoked" if key["revoked_at"] else "expired")
        click.echo(f"{key['prefix']}\t{state}\t{key['name']}\t{' '.join(key['scopes'])}")


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_command(key_id):
    """Revoke a key by its id (``afk_<id>`` or ``<id>``)."""
    key_id = key_id.removeprefix("afk_")
    try:
        view = revoke_key(key_id)
    except ControlPlaneError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"revoked {view['prefix']} ({view['name']})")


def init_cli(app: Flask) -> None:
    """Add ``flask keys`` to the app's command line."""
    app.cli.add_command(keys_cli)
