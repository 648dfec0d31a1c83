"""Refusals of the authentication layer: 401 (who are you?), 403 (not you), 429."""

from config.errors import ControlPlaneError


class AuthenticationError(ControlPlaneError):
    """Raised when a request carries no usable key."""

    code = "authentication_required"
    status = 401


class InvalidApiKey(AuthenticationError):
    """Raised when the key sent is not one we issued (or the server's)."""

    code = "invalid_api_key"


class ApiKeyRevoked(AuthenticationError):
    """Raised when the key sent was revoked."""

    code = "api_key_revoked"


class ApiKeyExpired(AuthenticationError):
    """Raised when the key sent is past its expiry."""

    code = "api_key_expired"


class InsufficientScope(ControlPlaneError):
    """Raised when the key is valid but its scopes do not allow the action."""

    code = "insufficient_scope"
    status = 403


class RateLimited(ControlPlaneError):
    """Raised when a key with a rate limit has used up its bucket."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, details: dict | None = None, retry_after: int = 1):
        super().__init__(message, details)
        self.retry_after = retry_after


class ApiKeyNotFound(ControlPlaneError):
    """Raised when an admin action names a key id that does not exist."""

    code = "api_key_not_found"
    status = 404
