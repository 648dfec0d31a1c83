"""Property-based tests (hypothesis): bounded, and derandomized when CI is set.

Each property runs at most ``max_examples`` cases with no deadline (the machine is
shared and slow examples are not failures here); CI replays the same cases every run.
The in-process fixtures (app on the migrated database, fresh nodes and executions) are
the ones tests/inprocess uses.
"""

import os

from hypothesis import HealthCheck, settings

from tests.inprocess.conftest import config, ctx, make_execution, new_row, register  # noqa: F401

settings.register_profile(
    "agentfield", max_examples=200, deadline=None, database=None,
    derandomize=bool(os.environ.get("CI")),
    # Fixtures here are set up once per test, not per example, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("agentfield")
