"""The URL and numbers from query parameters and headers, read strictly.

U+0000 in the path or the query is refused before any view runs: PostgreSQL cannot
compare a string holding it, so every lookup by such an id would fail.

``int()`` and ``float()`` accept more than a client should send: ``"1_000"``, ``" 5 "``,
Arabic-Indic digits, ``"nan"``, ``"inf"``; ``str.isdigit()`` passes ``"²"``, which
``int()`` then refuses. Both are refused here with a 400 naming the parameter.
"""

import re

from flask import Flask, request

from app.errors import InvalidCharacter, InvalidField, InvalidHeader

_INTEGER = re.compile(r"[0-9]{1,12}")
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")


def init_url_checks(app: Flask) -> None:
    """Refuse a URL whose path or query holds U+0000, for every route."""
    app.before_request(refuse_nul_in_url)


def refuse_nul_in_url() -> None:
    """Raise InvalidCharacter when the decoded path or the raw query holds U+0000."""
    if "\x00" in request.path or b"%00" in request.query_string:
        raise InvalidCharacter("the URL holds the character U+0000 (%00)")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """Return the query parameter ``name`` as an integer in [low, high], or default."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidField(f"'{name}' must be a whole number between {low} and {high}",
                           {"field": name})
    return int(raw)


def seconds_header_or_arg(header: str, arg: str) -> float | None:
    """Return a duration from the header (else the query parameter), or None if absent.

    A duration is a non-negative decimal number of seconds such as ``5`` or ``0.25``.
    """
    raw = request.headers.get(header)
    if raw is not None:
        if not _SECONDS.fullmatch(raw):
            raise InvalidHeader(f"'{header}' must be a number of seconds such as 5 or 0.5",
                                {"field": header})
        return float(raw)
    raw = request.args.get(arg)
    if raw is None:
        return None
    if not _SECONDS.fullmatch(raw):
        raise InvalidField(f"'{arg}' must be a number of seconds such as 5 or 0.5",
                           {"field": arg})
    return float(raw)
