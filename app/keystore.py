"""The control plane's keys: the root DID, a DID per agent node and per function.

Private seeds are sealed with AGENTFIELD_SECRET_KEY (AES-GCM) before they touch the
database and never leave the server. Without that variable a development secret is
generated once into the instance folder, and a warning says so.
"""

import logging
import os
import secrets
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db, get_config
from app.models import DidKey
from app.models.identity import ROOT_NODE
from app.models.types import utcnow
from identity.keys import SecretBox, SigningKey

log = logging.getLogger(__name__)

_keys: dict[str, SigningKey] = {}
_node_dids: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()
NODE_DID_CACHE_SECONDS = 5.0


class FunctionDidLimitReached(Conflict):
    """Raised when a registration would give a node more function DIDs than allowed."""

    code = "function_did_limit_reached"


def secret_box() -> SecretBox:
    """Return the box that seals private seeds, creating the dev secret if needed."""
    box = current_app.extensions.get("secret_box")
    if box is None:
        box = SecretBox(get_config().secret_key or _dev_secret())
        current_app.extensions["secret_box"] = box
    return box


def _dev_secret() -> str:
    path = Path(current_app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under a temporary name, then linked into place: a process
        # starting at the same moment sees either no file or the whole secret, never
        # an empty one, and only the first link wins.
        temporary = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                       "w") as f:
            f.write(secrets.token_urlsafe(32))
        try:
            os.link(temporary, path)
            log.warning("AGENTFIELD_SECRET_KEY is not set: generated a development secret "
                        "in %s; set AGENTFIELD_SECRET_KEY in production", path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def _create(node_id: str, function: str | None, kind: str) -> DidKey:
    key = SigningKey.generate()
    row = DidKey(did=key.did, node_id=node_id, function=function, kind=kind,
                 sealed_seed=secret_box().seal(key.seed()), status="active",
                 created_at=utcnow())
    db.session.add(row)
    _keys[key.did] = key
    return row


def root_did() -> str:
    """Return the control plane's root DID, creating its key on first use."""
    row = db.session.scalars(select(DidKey).where(
        DidKey.node_id == ROOT_NODE, DidKey.status == "active")).first()
    if row is None:
        row = _create(ROOT_NODE, None, "root")
        db.session.commit()
    return row.did


def ensure_node_dids(node_id: str, reasoners: list[str], skills: list[str]) -> dict:
    """Give a node and each function a stable DID; retire the DIDs of removed functions.

    The caller commits (registration does, in the same transaction as the node row).
    Retired DIDs are kept (credentials name them), so a node holds at most
    AGENTFIELD_MAX_FUNCTION_DIDS function DIDs, retired ones included.

    Raises:
        FunctionDidLimitReached: the new function names would pass that cap; nothing
            was written.
    """
    rows = db.session.scalars(select(DidKey).where(DidKey.node_id == node_id)).all()
    wanted = {name: "skill" for name in skills}
    wanted.update({name: "reasoner" for name in reasoners})  # a reasoner wins a name clash
    by_function = {r.function: r for r in rows if r.function is not None}
    _check_room(node_id, len(by_function), len(wanted.keys() - by_function.keys()))
    agent = next((r for r in rows if r.kind == "agent" and r.status == "active"), None)
    agent = agent or _create(node_id, None, "agent")
    for name, kind in wanted.items():
        row = by_function.get(name)
        if row is None:
            by_function[name] = _create(node_id, name, kind)
        elif row.status != "active":
            row.status, row.retired_at = "active", None
    for name, row in by_function.items():
        if name not in wanted and row.status == "active":
            row.status, row.retired_at = "inactive", utcnow()
    _node_dids.pop(node_id, None)
    return _identity_package(agent.did, by_function, reasoners, skills)


def _check_room(node_id: str, held: int, new: int) -> None:
    cap = get_config().max_function_dids
    if new and held + new > cap:
        raise FunctionDidLimitReached(
            f"node '{node_id}' holds {held} function DIDs (retired ones included); "
            f"{new} new function names would pass the limit of {cap}",
            {"node_id": node_id, "held": held, "new": new, "max_function_dids": cap})


def _identity_package(agent_did, by_function, reasoners, skills) -> dict:
    return {
        "agent_did": agent_did,
        "reasoner_dids": {name: by_function[name].did for name in reasoners},
        "skill_dids": {name: by_function[name].did for name in skills},
    }


def node_dids(node_id: str) -> dict:
    """Return ``{"agent": did, "functions": {name: did}}`` for a node (cached briefly)."""
    cached = _node_dids.get(node_id)
    if cached and time.monotonic() - cached[0] < NODE_DID_CACHE_SECONDS:
        return cached[1]
    rows = db.session.scalars(select(DidKey).where(
        DidKey.node_id == node_id, DidKey.status == "active")).all()
    view = {"agent": next((r.did for r in rows if r.kind == "agent"), None),
            "functions": {r.function: r.did for r in rows if r.function is not None}}
    with _lock:
        _node_dids[node_id] = (time.monotonic(), view)
    return view


def signing_key(did: str) -> SigningKey:
    """Unseal (once per process) the key behind one of our DIDs."""
    key = _keys.get(did)
    if key is None:
        row = db.session.get(DidKey, did)
        if row is None:
            raise LookupError(f"no key for {did}")
        key = SigningKey.from_seed(secret_box().open(row.sealed_seed))
        with _lock:
            _keys[did] = key
    return key


def rotate_agent_key(node_id: str) -> tuple[str, str]:
    """Give a node a new agent DID; the old one stays resolvable, marked rotated."""
    old = db.session.scalars(select(DidKey).where(
        DidKey.node_id == node_id, DidKey.kind == "agent", DidKey.status == "active")).first()
    if old is None:
        raise LookupError(node_id)
    old.status, old.retired_at = "rotated", utcnow()
    new = _create(node_id, None, "agent")
    db.session.commit()
    _node_dids.pop(node_id, None)
    return old.did, new.did
