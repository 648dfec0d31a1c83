"""The SDK's own error root (the SDK ships alone, so it does not share the control plane's)."""


class AgentSDKError(Exception):
    """Root of every error the SDK raises."""

    code = "agent_sdk_error"


class InvalidSettings(AgentSDKError, ValueError):
    """Raised when an environment variable of the SDK holds a value it cannot parse."""

    code = "invalid_settings"

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


class DuplicateRegistration(AgentSDKError):
    """Raised when two functions are registered under one name."""

    code = "duplicate_registration"


class NotRegistered(AgentSDKError):
    """Raised when no function is registered under a name."""

    code = "not_registered"


class RegistrationClosed(AgentSDKError):
    """Raised when a function is registered after the agent started serving."""

    code = "registration_closed"


class InvalidSignature(AgentSDKError):
    """Raised when a function's signature cannot become an input schema."""

    code = "invalid_signature"


class InputValidationError(AgentSDKError):
    """Raised when input does not match a function's parameters."""

    code = "input_validation_failed"

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = problems or []


class ControlPlaneUnavailable(AgentSDKError):
    """Raised when the control plane cannot be reached."""

    code = "control_plane_unavailable"


class ControlPlaneResponseError(AgentSDKError):
    """Raised when the control plane answers with an error; branch on ``.code``."""

    def __init__(self, code: str, message: str, status: int, details: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


class ExecutionFailedError(AgentSDKError):
    """Raised by ``app.call`` when the called function failed, timed out or was cancelled."""

    code = "execution_failed"

    def __init__(self, target: str, execution_id: str, status: str,
                 message: str | None, error_type: str | None = None):
        super().__init__(f"{target} ({execution_id}) {status}: {message}")
        self.target = target
        self.execution_id = execution_id
        self.status = status
        self.error_message = message
        self.error_type = error_type


class ExecutionTimeoutError(ExecutionFailedError):
    """Raised by ``app.call`` when no result arrived in time."""

    code = "execution_timeout"


class ExecutionCancelledError(AgentSDKError):
    """Raised inside a function whose execution was cancelled, at its next ``app.call``."""

    code = "execution_cancelled"

    def __init__(self, execution_id: str):
        super().__init__(f"execution {execution_id} was cancelled")
        self.execution_id = execution_id


class ExecutionRevoked(ExecutionCancelledError):
    """Raised inside a cancelled function still running after the grace period.

    The SDK raises it in the function's thread (or cancels its asyncio task), so the
    worker's slot is freed even when the function never looks at ``app.ctx.cancelled``.
    A function blocked inside C code (a socket read, ``time.sleep``) sees it when that
    call returns.
    """

    code = "execution_revoked"

    def __init__(self, execution_id: str = ""):
        super().__init__(execution_id or "(revoked)")
