"""Print Redis 7 ACL users for a least-privilege broker: one agent node's, or the control plane's.

Usage::

    python -m scripts.broker_acl <node_id> [--namespace af] [--password PW]
    python -m scripts.broker_acl --control-plane [--password PW]

stdout is one ``ACL SETUSER`` command, ready for ``redis-cli`` (``... | redis-cli -u
redis://admin:...@host:6379``); a generated password and the agent's broker URL go to
stderr. The recipe, and what an agent can still do with it, is in docs/broker-acl.md.
"""

import argparse
import hashlib
import re
import secrets
import sys

from agent_sdk.protocol import (
    DEFAULT_NAMESPACE,
    cancel_key,
    is_valid_node_id,
    lease_key,
    queue_name,
    reports_stream,
)
from agent_sdk.worker import unacked_keys

CONTROL_PLANE_USER = "control-plane"
# No glob characters (* ? [ ] \), so a namespace is matched literally in a key pattern.
NAMESPACE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

# Keyless: redis-py's handshake and kombu's health checks (SELECT for a database but 0),
# transactions, and loading the scripts run with EVALSHA below.
CONNECTION = ("+hello", "+ping", "+select", "+multi", "+exec", "+discard", "+watch",
              "+unwatch", "+script|load")
# kombu on the node's own keys: consume (BRPOP), declare (LLEN, SADD on the binding
# sets), ack emulation (HSET, HDEL, ZADD, ZREM), restoring unacked messages (ZRANGE,
# HGET, RPUSH or LPUSH) under a mutex (SET NX PX; redis-py releases it with a script
# that runs GET and DEL).
KOMBU = ("+brpop", "+llen", "+lpush", "+rpush", "+sadd", "+hset", "+hget", "+hdel",
         "+zadd", "+zrange", "+zrem", "+set", "+get", "+del", "+evalsha")
# agent_sdk/lease.py: SET NX PX, GET, SET done, DEL (release), renewal script (GET, PEXPIRE).
LEASE = ("+set", "+get", "+del", "+pexpire", "+evalsha")


def agent_user(node_id: str) -> str:
    """Return the ACL user name of an agent node: ``agent.<node_id>``."""
    return queue_name(node_id)


def agent_rules(node_id: str, password: str, namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """Return the ``ACL SETUSER`` arguments of one agent node's user.

    Raises:
        ValueError: the node id cannot name a queue, or the namespace holds characters
            a key pattern would read as a glob.
    """
    if not is_valid_node_id(node_id):
        raise ValueError(f"invalid node id: {node_id!r}")
    _check_namespace(namespace)
    queue = queue_name(node_id)
    own = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
           *unacked_keys(node_id).values()]
    return [
        agent_user(node_id), "reset", "on", _hashed(password), "resetchannels", "-@all",
        *CONNECTION, *KOMBU, *(f"~{key}" for key in own),
        _selector(f"~{lease_key(namespace, '*')}", *LEASE),
        _selector(f"%R~{cancel_key(namespace, '*')}", "+exists"),
        _selector(f"%W~{reports_stream(namespace)}", "+xadd"),
    ]


def control_plane_rules(password: str) -> list[str]:
    """Return the ``ACL SETUSER`` arguments of the control plane's user.

    It owns the broker (every queue, the memory store, the report stream, Flower's
    remote control and events), so it keeps every key and channel; only the commands
    that administer or empty the server (``@dangerous``: CONFIG, FLUSHALL, KEYS, ACL...)
    are left to the operator's own user.
    """
    return [CONTROL_PLANE_USER, "reset", "on", _hashed(password), "~*", "&*", "+@all",
            "-@dangerous"]


def acl_setuser(rules: list[str]) -> str:
    """Return the ``ACL SETUSER`` command line (redis-cli merges a selector's words)."""
    return " ".join(["ACL", "SETUSER", *rules])


def _selector(keys: str, *commands: str) -> str:
    # A selector's commands reach only its own keys: DEL on a lease, never on the stream.
    return "(" + " ".join([keys, *commands]) + ")"


def _hashed(password: str) -> str:
    # The line may be kept in a file or a shell history: it holds only the SHA-256.
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def _check_namespace(namespace: str) -> None:
    if NAMESPACE_RE.fullmatch(namespace) is None:
        raise ValueError(f"namespace must match {NAMESPACE_RE.pattern}: {namespace!r}")


def main(argv: list[str] | None = None) -> int:
    """Print one user's ``ACL SETUSER`` line; a generated password goes to stderr."""
    parser = argparse.ArgumentParser(prog="python -m scripts.broker_acl",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("node_id", nargs="?", help="the agent node's id")
    parser.add_argument("--control-plane", action="store_true",
                        help="print the control plane's user instead")
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE,
                        help="AGENTFIELD_NAMESPACE (default: %(default)s)")
    parser.add_argument("--password", help="default: a new random one, shown on stderr")
    args = parser.parse_args(argv)
    if args.control_plane == bool(args.node_id):
        parser.error("give either a node id or --control-plane")
    password = args.password or secrets.token_urlsafe(32)
    try:
        rules = (control_plane_rules(password) if args.control_plane
                 else agent_rules(args.node_id, password, args.namespace))
    except ValueError as exc:
        parser.error(str(exc))
    print(acl_setuser(rules))
    if not args.password:
        print(f"password of {rules[0]}: {password}", file=sys.stderr)
    if not args.control_plane:
        print(f"agent: AGENTFIELD_BROKER_URL=redis://{rules[0]}:<password>@<host>:<port>/<db>"
              " and AGENTFIELD_REMOTE_CONTROL=0", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
