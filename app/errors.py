"""API error leaves and the handlers that render every error as JSON."""

import logging

import redis
import sqlalchemy.exc
from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from config.errors import ControlPlaneError
from memory.errors import MemoryStoreError

log = logging.getLogger(__name__)


class BadRequest(ControlPlaneError):
    """Raised when a request is malformed."""

    code = "bad_request"
    status = 400


class InvalidJSON(BadRequest):
    """Raised when the body is not valid JSON or not a JSON object."""

    code = "invalid_json"


class InvalidTarget(BadRequest):
    """Raised when a target is not of the form ``node.function``."""

    code = "invalid_target"


class InvalidInput(BadRequest):
    """Raised when ``input`` is missing, empty or not an object."""

    code = "invalid_input"


class InvalidStatus(BadRequest):
    """Raised when a status report names a status we do not know."""

    code = "invalid_status"


class InvalidField(BadRequest):
    """Raised when a field has the wrong type or value."""

    code = "invalid_field"


class InvalidJSONValue(BadRequest):
    """Raised when a body holds U+0000, which PostgreSQL's text and jsonb cannot store."""

    code = "invalid_json_value"


class InvalidCharacter(BadRequest):
    """Raised when the URL's path or query holds U+0000 (no id or filter can)."""

    code = "invalid_character"


class JSONTooDeep(BadRequest):
    """Raised when a body nests arrays and objects deeper than we store and render."""

    code = "json_too_deep"


class InvalidHeader(BadRequest):
    """Raised when a header we read is too long, not printable ASCII or not a number."""

    code = "invalid_header"


class WebhookNotRegistered(BadRequest):
    """Raised when a webhook action names an execution that has no webhook."""

    code = "webhook_not_registered"


class NotFound(ControlPlaneError):
    """Raised when a resource does not exist."""

    code = "not_found"
    status = 404


class AgentNotFound(NotFound):
    """Raised when no agent node is registered under the id."""

    code = "agent_not_found"


class FunctionNotFound(NotFound):
    """Raised when the node has no reasoner or skill of that name."""

    code = "function_not_found"


class ExecutionNotFound(NotFound):
    """Raised when no execution has the id."""

    code = "execution_not_found"


class Conflict(ControlPlaneError):
    """Raised when the resource is not in a state that allows the action."""

    code = "conflict"
    status = 409


class ExecutionNotFinished(Conflict):
    """Raised when an action needs a finished execution and it is still going."""

    code = "execution_not_finished"


class WebhookDeliveryInProgress(Conflict):
    """Raised when a redelivery is asked for while an attempt is under way."""

    code = "webhook_delivery_in_progress"


class PayloadTooLarge(ControlPlaneError):
    """Raised when the request body is over ``AGENTFIELD_MAX_BODY_BYTES``."""

    code = "payload_too_large"
    status = 413


class InputTooLarge(PayloadTooLarge):
    """Raised when ``input`` as JSON is over ``AGENTFIELD_MAX_INPUT_BYTES``."""

    code = "input_too_large"


class UnsupportedMediaType(ControlPlaneError):
    """Raised when a body comes with a Content-Type other than JSON."""

    code = "unsupported_media_type"
    status = 415


class InputValidationFailed(ControlPlaneError):
    """Raised when the input does not match the function's input schema."""

    code = "input_validation_failed"
    status = 422


class ServiceUnavailable(ControlPlaneError):
    """Raised when a backing service (broker, database) cannot take the work."""

    code = "service_unavailable"
    status = 503
    retry_after = 5


class AgentUnavailable(ServiceUnavailable):
    """Raised when a node's circuit is open: no live worker, or too many failures."""

    code = "agent_unavailable"

    def __init__(self, message: str, details: dict | None = None, retry_after: int = 5):
        super().__init__(message, details)
        self.retry_after = retry_after


class DatabaseUnavailable(ServiceUnavailable):
    """Raised when PostgreSQL cannot be reached; nothing was written."""

    code = "database_unavailable"


class BrokerUnavailable(ServiceUnavailable):
    """Raised when Redis cannot be reached before anything was written."""

    code = "broker_unavailable"


class AgentBusy(ControlPlaneError):
    """Raised when a node already runs as many executions as it may."""

    code = "agent_busy"
    status = 429
    retry_after = 1


class QueueFull(ControlPlaneError):
    """Raised when an agent's queue already holds as many executions as it may."""

    code = "agent_queue_full"
    status = 429
    retry_after = 1


class EnqueueFailed(ServiceUnavailable):
    """Raised when the execution was recorded but its message could not be sent."""

    code = "enqueue_failed"


def error_response(code: str, message: str, status: int, details: dict | None = None,
                   retry_after: int | None = None):
    """Build the one JSON error shape every failure is answered with."""
    body = {"error": code, "message": message}
    if details:
        body["details"] = details
    if retry_after:
        body["retry_after"] = retry_after
    response = jsonify(body)
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    """Render our errors, HTTP errors and crashes in one JSON shape."""

    @app.errorhandler(ControlPlaneError)
    @app.errorhandler(MemoryStoreError)
    def handle_known_error(error: ControlPlaneError | MemoryStoreError):
        return error_response(error.code, str(error), error.status,
                              getattr(error, "details", None),
                              getattr(error, "retry_after", None))

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    def handle_database_down(error):
        log.error("database unavailable: %s", error.orig)  # no statement, no parameters
        return handle_known_error(
            DatabaseUnavailable(f"the database is unavailable: {error.orig}"))

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def handle_redis_down(error):
        log.error("redis unavailable: %s", error)
        return handle_known_error(
            BrokerUnavailable(f"the broker (Redis) is unavailable: {error}"))

    @app.errorhandler(RequestEntityTooLarge)
    def handle_body_too_large(error):
        # Raised by werkzeug before the body is read (Content-Length), or as soon as a
        # chunked body passes the limit.
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return handle_known_error(PayloadTooLarge(
            f"the request body is larger than {limit} bytes (AGENTFIELD_MAX_BODY_BYTES)",
            {"max_bytes": limit}))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        code = (error.name or "http_error").lower().replace(" ", "_")
        return error_response(code, error.description or error.name, error.code or 500)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response("internal_error", "internal server error", 500)
