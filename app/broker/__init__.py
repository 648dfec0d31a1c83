"""The control plane's side of the wire: queue, task and Redis key names, task messages.

A leaf: imports config and third-party packages only, never the rest of app (so tasks/
and every app module can use it without a cycle). agent_sdk/protocol.py states the
agents' side; tests/unit/test_wire_contract.py proves the two agree.
"""
