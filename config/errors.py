"""The control plane's error root.

Every error a client can see derives from ControlPlaneError and carries a stable
snake_case ``code``, an HTTP ``status`` and optional ``details``::

    ControlPlaneError
     +-- ConfigError                      (settings are missing or invalid)
     +-- app.errors.BadRequest            400: malformed JSON, missing fields
     |    +-- InvalidTarget, InvalidInput, InvalidStatus, InvalidJSONValue, ...
     +-- app.errors.NotFound              404: AgentNotFound, FunctionNotFound, ...
     +-- app.errors.PayloadTooLarge       413: the body, or InputTooLarge
     +-- app.errors.UnsupportedMediaType  415: a body that is not JSON
     +-- app.errors.InputValidationFailed 422: input fails the function's schema
     +-- app.errors.ServiceUnavailable    503: EnqueueFailed, ...
"""


class ControlPlaneError(Exception):
    """Raise for any failure that should reach a client as a JSON error."""

    code = "control_plane_error"
    status = 500

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


class ConfigError(ControlPlaneError):
    """Raised when environment settings are missing or invalid."""

    code = "config_error"
    status = 500
