"""Numbers from query parameters and headers, read strictly (ASCII digits only).

``int()`` and ``float()`` accept more than a client should send: ``"1_000"``, ``" 5 "``,
Arabic-Indic digits, ``"nan"``, ``"inf"``; ``str.isdigit()`` passes ``"²"``, which
``int()`` then refuses. Both are refused here with a 400 naming the parameter.
"""

import re

from flask import request

from app.errors import InvalidField, InvalidHeader

_INTEGER = re.compile(r"[0-9]{1,12}")
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")


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
