"""Identity (DIDs, verifiable credentials): empty until its issue lands.

May import: config.
"""
