"""The outcome of an offline verification: named checks, each passed or failed."""

from dataclasses import dataclass, field
from typing import NamedTuple

MAX_PROBLEMS_SHOWN = 5


class Check(NamedTuple):
    """One verification step: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    """The checks of one verification, in the order they ran."""

    title: str = ""
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether there were checks and every one passed."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        """Return the names of the failed checks."""
        return [check.name for check in self.checks if not check.ok]

    def add(self, name: str, ok: bool, detail: str) -> bool:
        """Record a check; return whether it passed."""
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    def add_problems(self, name: str, problems: list[str], passed: str) -> bool:
        """Record a check that passes when problems is empty, listing the first few."""
        if not problems:
            return self.add(name, True, passed)
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown += f"; and {len(problems) - MAX_PROBLEMS_SHOWN} more"
        return self.add(name, False, shown)

    def check(self, name: str) -> Check:
        """Return the check called name (KeyError if it did not run)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def render(self) -> str:
        """Return the report as text: the title, one line per check, then a summary line."""
        width = max((len(check.name) for check in self.checks), default=0)
        lines = [self.title] if self.title else []
        lines += [f"{'PASS' if check.ok else 'FAIL'}  {check.name.ljust(width)}  {check.detail}"
                  for check in self.checks]
        if self.ok:
            lines.append(f"RESULT: VERIFIED - all {len(self.checks)} checks passed")
        else:
            failed = self.failed
            lines.append(f"RESULT: NOT VERIFIED - {len(failed)} of {len(self.checks)} checks "
                         f"failed: {', '.join(failed) or 'no checks ran'}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Return the report as JSON-ready data."""
        return {"ok": self.ok, "title": self.title, "failed": self.failed,
                "checks": [check._asdict() for check in self.checks]}
