"""Shared memory fabric (scoped Redis memory): empty until its issue lands.

May import: config.
"""
