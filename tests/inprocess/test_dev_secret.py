"""The generated development secret: one per instance folder, whole, whoever starts first."""

import multiprocessing
import queue

import pytest

from app import create_app
from config import Config


def _read_secret(instance: str, results) -> None:
    app = create_app(Config.from_env({"DATABASE_URL": "sqlite://"}))
    app.instance_path = instance
    try:
        with app.app_context():
            from app.keystore import _dev_secret

            results.put(_dev_secret())
    except Exception as exc:  # reported to the test instead of a silent child death
        results.put(f"error: {exc!r}")


@pytest.mark.parametrize("round_", range(3))
def test_processes_starting_together_read_one_whole_secret(tmp_path, round_):
    # Given six processes (two gunicorn workers, agents...) starting on a fresh checkout
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_read_secret, args=(str(tmp_path), results))
                 for _ in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)

    # Then each read the same, non-empty secret
    secrets = []
    for _ in processes:
        try:
            secrets.append(results.get(timeout=10))
        except queue.Empty:
            secrets.append("no answer")
    assert len(set(secrets)) == 1 and len(secrets[0]) >= 40, secrets
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temporaries left
