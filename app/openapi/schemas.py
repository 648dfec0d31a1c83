"""JSON Schemas of AgentField's request and response bodies, referenced by ``api_doc``.

Named shapes live in ``COMPONENTS`` and are referenced with ``ref(name)``; responses list
the fields clients rely on (extra fields are allowed, as AgentField's clients ignore them).
"""

from app.status import STATUSES

ANY: dict = {}  # any JSON value
OBJECT = {"type": "object"}
STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
INTEGER = {"type": "integer"}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
BOOLEAN = {"type": "boolean"}


def ref(name: str) -> dict:
    """Return a reference to the named component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


def list_of(schema: dict) -> dict:
    return {"type": "array", "items": schema}


ERROR = ref("Error")
STATUS = {"type": "string", "enum": list(STATUSES)}

COMPONENTS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "message": STRING,
            "details": OBJECT,
            "retry_after": {"type": "integer", "minimum": 1},
        },
    },
    "Execution": _object({
        "execution_id": STRING, "run_id": STRING, "workflow_id": STRING,
        "parent_execution_id": NULLABLE_STRING, "node_id": STRING, "agent_node_id": STRING,
        "reasoner_id": STRING, "target": STRING, "type": STRING, "status": STATUS,
        "input": ANY, "result": ANY, "error": NULLABLE_STRING, "error_type": NULLABLE_STRING,
        "session_id": NULLABLE_STRING, "actor_id": NULLABLE_STRING, "attempt": INTEGER,
        "attempts": {"type": "array"}, "created_at": TIMESTAMP,
        "started_at": NULLABLE_TIMESTAMP, "completed_at": NULLABLE_TIMESTAMP,
        "duration_ms": NULLABLE_INTEGER, "webhook_registered": BOOLEAN,
    }, {"webhook": {"type": ["object", "null"]}, "webhook_events": {"type": "array"}}),
    "SyncResult": _object({
        "execution_id": STRING, "run_id": STRING, "status": STATUS, "result": ANY,
        "duration_ms": NULLABLE_INTEGER, "finished_at": NULLABLE_TIMESTAMP,
    }, {"error_message": NULLABLE_STRING, "error_type": NULLABLE_STRING,
        "webhook_registered": BOOLEAN}),
    "Accepted": _object({
        "execution_id": STRING, "run_id": STRING, "workflow_id": STRING, "status": STATUS,
        "target": STRING, "type": STRING, "created_at": TIMESTAMP, "enqueued_at": TIMESTAMP,
        "webhook_registered": BOOLEAN,
    }, {"webhook_error": STRING, "error": STRING, "message": STRING}),
    "Node": _object({
        "id": STRING, "did": NULLABLE_STRING, "function_dids": OBJECT,
        "team_id": NULLABLE_STRING, "base_url": NULLABLE_STRING, "version": NULLABLE_STRING,
        "deployment_type": STRING, "reasoners": {"type": "array"},
        "skills": {"type": "array"}, "health_status": STRING,
        "lifecycle_status": NULLABLE_STRING, "last_heartbeat": NULLABLE_TIMESTAMP,
        "registered_at": NULLABLE_TIMESTAMP, "metadata": {"type": ["object", "null"]},
        "queue": STRING,
    }, {"limits": OBJECT, "circuit": OBJECT}),
    "Memory": _object({
        "scope": {"type": "string", "enum": ["workflow", "session", "actor", "global"]},
        "scope_id": STRING, "key": STRING, "data": ANY, "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP, "ttl_seconds": NULLABLE_INTEGER,
        "expires_at": NULLABLE_TIMESTAMP,
    }),
    "MemoryEvent": _object({
        "id": STRING, "scope": STRING, "scope_id": STRING, "key": STRING,
        "action": {"type": "string", "enum": ["set", "delete"]}, "data": ANY,
        "previous_data": ANY, "timestamp": TIMESTAMP,
    }),
    "Note": _object({"message": STRING, "tags": list_of(STRING), "timestamp": TIMESTAMP}),
    "Credential": _object({"credential_id": STRING, "issuer_did": STRING,
                           "vc_jwt": STRING}),
    "DidDocument": _object({"id": STRING}),
}

# -- requests ----------------------------------------------------------------------------

MEMORY_SCOPE = {"type": "string", "enum": ["workflow", "session", "actor", "global"]}
MEMORY_KEY = {"type": "string", "minLength": 1, "maxLength": 256}
_SCOPED = {"scope": MEMORY_SCOPE, "scope_id": STRING}
TTL = {"type": "integer", "minimum": 0}

EXECUTE_REQUEST = _object({"input": OBJECT}, {
    "webhook": {"type": ["object", "null"], "properties": {
        "url": STRING, "secret": STRING, "headers": {"type": "object",
                                                     "additionalProperties": STRING}}},
    "context": OBJECT, "dispatch": {"type": "string", "enum": ["queue", "inline"]},
})
EXECUTE_HEADERS = {"X-Run-ID": STRING, "X-Parent-Execution-ID": STRING,
                   "X-Session-ID": STRING, "X-Actor-ID": STRING, "Idempotency-Key": STRING}
SYNC_HEADERS = {**EXECUTE_HEADERS, "X-Sync-Timeout": {"type": "number", "minimum": 0}}
STATUS_REPORT = _object({"status": STRING}, {
    "result": ANY, "error": ANY, "error_message": NULLABLE_STRING,
    "error_type": NULLABLE_STRING, "duration_ms": {"type": "number", "minimum": 0},
    "started_at": TIMESTAMP, "completed_at": TIMESTAMP, "attempts": {"type": "array"},
})
BATCH_STATUS_REQUEST = _object({"execution_ids": {
    "type": "array", "items": STRING, "minItems": 1, "maxItems": 500}})
REASON = {"type": "object", "properties": {"reason": NULLABLE_STRING}}
NOTE_REQUEST = _object({"message": {"type": "string", "minLength": 1, "maxLength": 10000}},
                       {"tags": list_of(STRING), "execution_id": STRING})
NODE_REGISTRATION = _object({"id": STRING}, {
    "node_id": STRING, "version": STRING, "base_url": NULLABLE_STRING, "team_id": STRING,
    "reasoners": {"type": "array", "items": OBJECT}, "skills": {"type": "array",
                                                               "items": OBJECT},
    "metadata": OBJECT, "lifecycle_status": STRING, "instance_id": STRING,
})
HEARTBEAT = {"type": "object", "properties": {"status": STRING}}
MEMORY_SET = _object({"key": MEMORY_KEY, "data": ANY}, {**_SCOPED, "ttl": TTL})
MEMORY_KEY_REQUEST = _object({"key": MEMORY_KEY}, _SCOPED)
MEMORY_INCREMENT = _object({"key": MEMORY_KEY}, {**_SCOPED, "amount": {"type": "number"},
                                                 "ttl": TTL})
MEMORY_COMPARE_AND_SET = _object({"key": MEMORY_KEY, "expected": ANY, "data": ANY},
                                 {**_SCOPED, "ttl": TTL})
EMBEDDING = {"type": "array", "items": {"type": "number"}, "minItems": 1}
VECTOR_SET = _object({"key": MEMORY_KEY, "embedding": EMBEDDING},
                     {**_SCOPED, "metadata": OBJECT})
VECTOR_SEARCH = _object({"query_embedding": EMBEDDING},
                        {**_SCOPED, "top_k": {"type": "integer", "minimum": 1},
                         "filters": OBJECT})
MEMORY_HEADERS = {"X-Workflow-ID": STRING, "X-Session-ID": STRING, "X-Actor-ID": STRING}

# -- responses ---------------------------------------------------------------------------

EXECUTION = ref("Execution")
NODE = ref("Node")
MEMORY = ref("Memory")
NODE_REGISTERED = _object({"success": BOOLEAN, "node_id": STRING, "queue": STRING,
                           "heartbeat_interval": {"type": "number"},
                           "identity_package": OBJECT})
HEARTBEAT_ANSWER = _object({"success": BOOLEAN, "timestamp": TIMESTAMP,
                            "health_status": STRING})
ACKNOWLEDGED = _object({"success": BOOLEAN, "message": STRING})
NODE_LIST = _object({"nodes": list_of(NODE), "count": INTEGER, "filters": OBJECT})
EXECUTION_LIST = _object({"executions": list_of(EXECUTION), "total": INTEGER,
                          "limit": INTEGER, "offset": INTEGER, "has_more": BOOLEAN})
BATCH_STATUS = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["execution_id", "status"]}}
REDELIVERY = _object({"status": STRING, "execution_id": STRING, "delivery_id": STRING})
NOTE_CREATED = _object({"success": BOOLEAN, "note": ref("Note"), "message": STRING})
NOTE_LIST = _object({"execution_id": STRING, "notes": list_of(ref("Note")),
                     "total": INTEGER})
RUN_CANCELLED = _object({"run_id": STRING, "cancelled": list_of(STRING), "count": INTEGER})
HEALTH = _object({"status": {"type": "string", "enum": ["healthy", "unhealthy"]},
                  "timestamp": TIMESTAMP, "version": STRING, "checks": OBJECT},
                 {"unhealthy": list_of(STRING)})
ROOT_DID = _object({"did": STRING, "document": ref("DidDocument")})
DID_INFO = _object({"did": STRING, "document": ref("DidDocument"),
                    "node_id": NULLABLE_STRING, "function": NULLABLE_STRING,
                    "kind": STRING, "status": STRING})
DID_RESOLUTION = _object({"didDocument": ref("DidDocument"),
                          "didResolutionMetadata": OBJECT, "didDocumentMetadata": OBJECT})
DID_ROTATED = _object({"node_id": STRING, "previous_did": STRING, "did": STRING})
EXECUTION_CREDENTIAL = {"allOf": [ref("Credential"), _object({"execution_id": STRING})]}
VC_CHAIN = _object({"run_id": STRING, "workflow_id": STRING, "root_did": STRING,
                    "credentials": list_of(OBJECT), "run_credential": ref("Credential"),
                    "total": INTEGER})
AUDIT_BUNDLE = _object({"format": STRING, "run_id": STRING})
EXISTS = _object({"exists": BOOLEAN})
MEMORY_LIST = list_of(MEMORY)
EVENT_HISTORY = _object({"events": list_of(ref("MemoryEvent")), "count": INTEGER})
VECTOR_STORED = _object({"key": STRING, "scope": STRING, "scope_id": STRING,
                         "dimensions": INTEGER})
VECTOR_HITS = list_of(_object({"key": STRING, "score": {"type": "number"},
                               "metadata": ANY, "scope": STRING, "scope_id": STRING}))
SSE_STREAM = {"type": "string"}

# -- query parameters --------------------------------------------------------------------

EXECUTION_FILTERS = {
    "status": STRING, "run_id": STRING, "workflow_id": STRING, "node": STRING,
    "node_id": STRING, "parent_execution_id": STRING, "session_id": STRING,
    "limit": {"type": "integer", "minimum": 1, "maximum": 200},
    "offset": {"type": "integer", "minimum": 0},
}
EVENT_FILTERS = {"scope": MEMORY_SCOPE, "scope_id": STRING, "patterns": STRING,
                 "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                 "since_id": STRING, "last_event_id": STRING}

# -- API keys (admin) ------------------------------------------------------------------

NUMBER_OR_NULL = {"type": ["number", "null"]}
KEY_REQUEST = _object(
    {"name": {"type": "string", "minLength": 1, "maxLength": 128},
     "scopes": {"type": "array", "items": STRING, "minItems": 1, "maxItems": 50}},
    {"expires_in_seconds": {"type": "integer", "minimum": 1},
     "rate_limit": {"type": "number", "exclusiveMinimum": 0},
     "rate_burst": {"type": "integer", "minimum": 1}})
KEY = _object({"id": STRING, "prefix": STRING, "name": STRING, "scopes": list_of(STRING),
               "active": BOOLEAN},
              {"rate_limit": NUMBER_OR_NULL, "rate_burst": NULLABLE_INTEGER,
               "created_by": NULLABLE_STRING, "created_at": NULLABLE_TIMESTAMP,
               "expires_at": NULLABLE_TIMESTAMP, "revoked_at": NULLABLE_TIMESTAMP})
KEY_CREATED = {**KEY, "required": [*KEY["required"], "token"],
               "properties": {**KEY["properties"], "token": STRING}}
KEY_LIST = _object({"keys": list_of(KEY), "count": INTEGER})
