"""Change events: one Redis Stream entry per write, read as history, pages or a blocking feed."""

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

import redis

from memory.codec import check_count, decode, fields, text, timestamp
from memory.errors import InvalidValue
from memory.scopes import Scope, parse_scope

_HISTORY_BATCH = 500
_ENTRY_ID = re.compile(r"\d{1,20}(-\d{1,20})?")


def event_from_entry(entry_id: bytes | str, entry: dict) -> dict:
    """Return the change event of one stream entry; its id is the entry id."""
    values = fields(entry)
    return {"id": text(entry_id), "scope": text(values["scope"]),
            "scope_id": text(values["scope_id"]), "key": text(values["key"]),
            "action": text(values["action"]), "data": decode(values["data"]),
            "previous_data": decode(values["previous_data"]),
            "timestamp": timestamp(int(values["ts"]))}


def matches(event: dict, scope: Scope | str | None = None, scope_id: str | None = None,
            patterns: Iterable[str] | None = None) -> bool:
    """Return whether event is in scope/scope_id (None: any) and its key fits a glob pattern.

    No patterns (None or empty) means every key; patterns use fnmatch.fnmatchcase.
    """
    if scope is not None and event["scope"] != parse_scope(scope).value:
        return False
    if scope_id is not None and event["scope_id"] != scope_id:
        return False
    patterns = [patterns] if isinstance(patterns, str) else list(patterns or ())
    return not patterns or any(fnmatchcase(event["key"], pattern) for pattern in patterns)


def check_entry_id(entry_id: object, *, allow_new: bool = False) -> str:
    """Return entry_id if it is a stream entry id ("$" too when allow_new); raise InvalidValue."""
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode(errors="replace")
    if isinstance(entry_id, str) and (_ENTRY_ID.fullmatch(entry_id)
                                      or (allow_new and entry_id == "$")):
        return entry_id
    raise InvalidValue(f"{entry_id!r} is not an event id (like 1700000000000-0)")


class EventLog:
    """The event stream of one namespace: ``<ns>:memevents``."""

    def __init__(self, client: redis.Redis, stream_key: str):
        self._client = client
        self.stream_key = stream_key

    def latest_id(self) -> str:
        """Return the newest event's id ("0-0" when there is none): a gapless start for read()."""
        entries = self._client.xrevrange(self.stream_key, "+", "-", count=1)
        return text(entries[0][0]) if entries else "0-0"

    def after(self, last_id: str | None, *, count: int = 100) -> list[dict]:
        """Return up to count events strictly after last_id, oldest first (None: from the start)."""
        start = "-" if last_id is None else f"({check_entry_id(last_id)}"
        entries = self._client.xrange(self.stream_key, start, "+", count=check_count(
            "count", count))
        return [event_from_entry(entry_id, entry) for entry_id, entry in entries]

    def read(self, last_id: str, block_ms: int, count: int = 100) -> list[dict]:
        """Return events after last_id ("$": only new ones), waiting up to block_ms for one.

        block_ms <= 0 does not wait. The connection is held while waiting, so the client's
        socket_timeout must exceed block_ms.
        """
        last_id = check_entry_id(last_id, allow_new=True)
        block = block_ms if block_ms > 0 else None
        reply = self._client.xread({self.stream_key: last_id}, count=check_count(
            "count", count), block=block)
        if isinstance(reply, dict):  # RESP3 clients answer with a map
            reply = list(reply.items())
        return [event_from_entry(entry_id, entry)
                for _stream, entries in reply or () for entry_id, entry in entries]

    def history(self, *, scope: Scope | str | None = None, scope_id: str | None = None,
                patterns: Iterable[str] | None = None, limit: int = 100,
                since_id: str | None = None) -> list[dict]:
        """Return the latest limit matching events still retained (after since_id), newest last."""
        check_count("limit", limit)
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or ())
        scope = None if scope is None else parse_scope(scope)
        stop = "-" if since_id is None else f"({check_entry_id(since_id)}"
        end, found = "+", []
        while len(found) < limit:
            entries = self._client.xrevrange(self.stream_key, end, stop, count=_HISTORY_BATCH)
            for entry_id, entry in entries:
                values = fields(entry)  # filter on the small fields before decoding data
                head = {name: text(values[name]) for name in ("scope", "scope_id", "key")}
                if matches(head, scope, scope_id, patterns):
                    found.append(event_from_entry(entry_id, values))
                    if len(found) == limit:
                        break
            if len(entries) < _HISTORY_BATCH:
                break
            end = f"({text(entries[-1][0])}"
        found.reverse()
        return found
