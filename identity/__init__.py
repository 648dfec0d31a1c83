"""Identity: did:key DIDs, VC-JWT execution credentials, run chains and offline audit.

May import: the standard library and cryptography (never app, tasks, config or agent_sdk),
so ``python -m identity verify`` runs anywhere without the control plane.
"""
