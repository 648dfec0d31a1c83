"""Errors of the memory store; each has a unique snake_case ``code`` and an HTTP ``status``."""


class MemoryStoreError(Exception):
    """Root of every memory store error."""

    code = "memory_store_error"
    status = 500


class InvalidKey(MemoryStoreError):
    """Raised when a memory key is empty, too long or holds a reserved or control character."""

    code = "invalid_memory_key"
    status = 400


class InvalidScope(MemoryStoreError):
    """Raised when a scope name is unknown or a scope id is missing, too long or malformed."""

    code = "invalid_memory_scope"
    status = 400


class InvalidValue(MemoryStoreError):
    """Raised when data is not JSON-encodable or a TTL, amount, limit or event id is invalid."""

    code = "invalid_memory_value"
    status = 400


class ValueTooLarge(MemoryStoreError):
    """Raised when a value's JSON encoding exceeds the store's max_value_bytes."""

    code = "memory_value_too_large"
    status = 413


class MemoryNotFound(MemoryStoreError):
    """Raised when an operation needs a memory value that does not exist."""

    code = "memory_not_found"
    status = 404


class CompareFailed(MemoryStoreError):
    """Raised when compare_and_set finds a value other than the expected one."""

    code = "memory_compare_failed"
    status = 409

    def __init__(self, message: str, current: dict | None = None):
        super().__init__(message)
        self.current = current  # the Memory object found instead (None: the key is absent)

    @property
    def details(self) -> dict:
        return {"current": self.current}


class NotANumber(MemoryStoreError):
    """Raised when increment meets a stored value that is not a number or leaves its range."""

    code = "memory_not_a_number"
    status = 409


class ContentionTooHigh(MemoryStoreError):
    """Raised when update() loses its optimistic transaction max_attempts times in a row."""

    code = "memory_contention"
    status = 409
