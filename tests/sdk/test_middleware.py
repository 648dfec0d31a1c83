"""Execution middleware: options checked at decoration, retries and time limits per try."""

import asyncio
import time

import pytest

from agent_sdk import Agent, ExecutionContext, ExecutionRevoked, Middleware, RunPolicy
from agent_sdk.middleware import Invocation, Retries, TimeLimit, parse_options
from agent_sdk.registry import build_registration
from agent_sdk.runner import run_awaitable, run_blocking

CTX = ExecutionContext(execution_id="exec-1", run_id="run-1", node_id="unit",
                       function="fn")


def _registration(fn, **options):
    return build_registration(fn, "reasoner", policy=parse_options(
        [TimeLimit(), Retries()], options), options=options)


def make_flaky(times, error=ConnectionError):
    """Make a function that fails ``times`` times with ``error``, then returns its tries."""

    def flaky(text: str = "") -> dict:
        flaky.tries += 1
        if flaky.tries <= times:
            raise error(f"try {flaky.tries} failed")
        return {"tries": flaky.tries}

    flaky.tries = 0
    return flaky


def test_unknown_options_are_refused_at_decoration():
    agent = Agent("unit", agentfield_server="http://127.0.0.1:9")

    with pytest.raises(TypeError, match=r"unknown options: \['retires', 'zzz'\]"):
        agent.reasoner(retires=3, zzz=1)
    assert "fn" not in agent.registry


def test_an_option_is_known_only_while_a_middleware_declares_it():
    class Tagging(Middleware):
        options = ("audit",)

    with pytest.raises(TypeError, match=r"unknown options: \['timeout'\]"):
        Agent("unit", middleware=[Tagging()]).skill(timeout=1)(lambda x: x)

    agent = Agent("unit", middleware=[Tagging()])
    agent.skill(audit=True)(lambda x: x)
    assert agent.registry.get("<lambda>").options == {"audit": True}


def test_options_become_the_run_policy():
    assert parse_options([TimeLimit(), Retries()], {
        "retries": 2, "retry_on": [ConnectionError], "retry_backoff": 0.5, "timeout": 3,
    }) == RunPolicy(retries=2, retry_on=(ConnectionError,), backoff=0.5, timeout=3)


def test_each_failed_try_is_listed_and_the_function_runs_again():
    flaky = make_flaky(2)
    registration = _registration(flaky, retries=3, retry_on=(ConnectionError,),
                                 retry_backoff=0.01)

    report = run_blocking(registration, {}, CTX)

    assert report["status"] == "succeeded" and report["result"] == {"tries": 3}
    assert [(a["attempt"], a["error_type"], a["error"]) for a in report["attempts"]] == [
        (1, "ConnectionError", "try 1 failed"), (2, "ConnectionError", "try 2 failed")]
    assert all(set(a) == {"attempt", "error_type", "error", "at"} for a in report["attempts"])


def test_when_retries_run_out_the_last_try_is_listed_too():
    registration = _registration(make_flaky(10), retries=2, retry_on=(ConnectionError,),
                                 retry_backoff=0.01)

    report = run_blocking(registration, {}, CTX)

    assert (report["status"], report["error_type"]) == ("failed", "ConnectionError")
    assert [a["attempt"] for a in report["attempts"]] == [1, 2, 3]


def test_a_failure_that_is_not_retryable_runs_once_and_lists_no_attempts():
    flaky = make_flaky(1, error=ValueError)
    registration = _registration(flaky, retries=3, retry_on=(ConnectionError,))

    report = run_blocking(registration, {}, CTX)

    assert (report["status"], report["error_type"], flaky.tries) == ("failed", "ValueError", 1)
    assert "attempts" not in report


def test_an_error_marked_retryable_is_retried_without_retry_on():
    class Transient(Exception):
        retryable = True

    flaky = make_flaky(1, error=Transient)

    report = run_blocking(_registration(flaky, retries=1, retry_backoff=0.01), {}, CTX)

    assert report["status"] == "succeeded" and flaky.tries == 2


def test_backoff_doubles_after_each_try():
    invocation = Invocation(_registration(make_flaky(0), retries=4, retry_on=(OSError,),
                                          retry_backoff=0.5), CTX, True, {})
    delays = []
    for _ in range(4):
        Retries().after_execute(invocation, OSError("down"))
        delays.append(invocation.retry_in)

    assert delays == [0.5, 1.0, 2.0, 4.0]
    Retries().after_execute(invocation, OSError("down"))
    assert [a["attempt"] for a in invocation.attempts] == [1, 2, 3, 4, 5]


def _sleep(seconds: float = 1.0) -> dict:
    time.sleep(seconds)
    return {}


async def _asleep(seconds: float = 1.0) -> dict:
    await asyncio.sleep(seconds)
    return {}


@pytest.mark.parametrize("fn", [_sleep, _asleep])
def test_a_try_past_its_timeout_ends_the_execution_as_timeout(fn):
    registration = _registration(fn, timeout=0.1, retries=3, retry_on=(Exception,))

    blocking = run_blocking(registration, {"seconds": 1.0}, CTX)
    awaited = asyncio.run(run_awaitable(registration, {"seconds": 1.0}, CTX))

    for report in (blocking, awaited):
        assert (report["status"], report["error_type"]) == ("timeout", "TimeoutError")
        assert report["error"] == f"{fn.__name__} exceeded its timeout of 0.1s"
        assert report["duration_ms"] < 900 and "attempts" not in report


@pytest.mark.parametrize("fn", [_sleep, _asleep])
def test_a_function_within_its_timeout_succeeds(fn):
    registration = _registration(fn, timeout=2)

    assert run_blocking(registration, {"seconds": 0.01}, CTX)["status"] == "succeeded"
    assert asyncio.run(run_awaitable(registration, {"seconds": 0.01}, CTX))[
        "status"] == "succeeded"


def test_a_revoked_function_ends_cancelled_without_retrying():
    flaky = make_flaky(5, error=ExecutionRevoked)
    registration = _registration(flaky, retries=3, retry_on=(Exception,))

    report = run_blocking(registration, {}, CTX)

    assert (report["status"], report["error_type"], flaky.tries) == (
        "cancelled", "ExecutionRevoked", 1)


def test_hooks_run_in_order_around_every_try():
    seen = []

    class Recorder(Middleware):
        def __init__(self, name):
            self.name = name

        def before_execute(self, invocation):
            seen.append((self.name, "before"))

        def after_execute(self, invocation, error):
            seen.append((self.name, "after", type(error).__name__))

    registration = _registration(make_flaky(1), retries=1, retry_on=(ConnectionError,),
                                 retry_backoff=0.01)
    middleware = [Recorder("a"), Retries(), Recorder("b")]

    assert run_blocking(registration, {}, CTX, middleware)["status"] == "succeeded"
    assert seen == [("a", "before"), ("b", "before"), ("a", "after", "ConnectionError"),
                    ("b", "after", "ConnectionError"), ("a", "before"), ("b", "before"),
                    ("a", "after", "NoneType"), ("b", "after", "NoneType")]
