"""The migrations build exactly the schema the models describe."""

import os
import subprocess
import sys

from tests.conftest import ROOT, SETTINGS


def test_models_and_migrations_agree(migrated_database):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "db", "check"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **SETTINGS},
        capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr
