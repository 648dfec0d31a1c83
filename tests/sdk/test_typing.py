"""Typed decorators: a decorated function keeps its identity, signature and static type."""

import inspect
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from agent_sdk import Agent

ROOT = Path(__file__).resolve().parents[2]


def test_decorated_functions_are_returned_unchanged():
    agent = Agent("unit", agentfield_server="http://127.0.0.1:9")

    def shout(text: str, times: int = 1) -> str:
        return text.upper() * times

    async def whisper(text: str) -> str:
        return text.lower()

    assert agent.reasoner(shout) is shout
    assert agent.skill(retries=1)(whisper) is whisper
    assert str(inspect.signature(shout)) == "(text: str, times: int = 1) -> str"
    assert inspect.iscoroutinefunction(whisper)


SNIPPET = '''
from agent_sdk import Agent

app = Agent("typed")

@app.reasoner
def bare(text: str) -> int:
    return len(text)

@app.skill(tags=["t"], timeout=1)
async def called(text: str, times: int = 1) -> str:
    return text * times

n: int = bare("ok")
s: str = bare("ok")             # line 14: int is not str
bare(3)                         # line 15: int is not str
coro = called("x", times="2")   # line 16: str is not int
'''


def test_mypy_sees_the_decorated_functions_exact_types():
    pytest.importorskip("mypy")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "snippet.py")
        path.write_text(textwrap.dedent(SNIPPET).lstrip())
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context",
             "--cache-dir", str(Path(tempfile.gettempdir(), "agent-sdk-mypy-cache")),
             "--config-file", str(ROOT / "pyproject.toml"), str(path)],
            capture_output=True, text=True, cwd=ROOT, timeout=300)

    lines = sorted(int(line.split(":")[1]) for line in result.stdout.splitlines()
                   if ": error:" in line)
    assert lines == [14, 15, 16], result.stdout + result.stderr
