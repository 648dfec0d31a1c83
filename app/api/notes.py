"""Notes that agents attach to executions with ``app.note()``."""

from flask import Blueprint, request

from app.api.executions import readable_execution
from app.auth.guard import current_principal, require
from app.auth.policy import requires
from app.errors import InvalidField
from app.executions import store
from app.extensions import db
from app.jsonio import read_json_object
from app.models import ExecutionNote
from app.models.types import isoformat
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("notes", __name__, url_prefix="/api/v1/executions")

_MAX_NOTE = 10_000
_MAX_TAGS, _MAX_TAG = 50, 100
_MAX_ID = 64  # the column's length


@bp.post("/note")
@api_doc("Attach a note to an execution", body=S.NOTE_REQUEST,
         headers={"X-Execution-ID": S.STRING}, query={"execution_id": S.STRING},
         responses={200: S.NOTE_CREATED}, errors=(400, 404))
@requires("node")
def create_note():
    body = read_json_object()
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise InvalidField("'message' is required and must be a non-blank string",
                           {"field": "message"})
    if len(message) > _MAX_NOTE:
        raise InvalidField(f"'message' is longer than {_MAX_NOTE} characters",
                           {"field": "message"})
    tags = body.get("tags") or []
    if (not isinstance(tags, list) or len(tags) > _MAX_TAGS
            or not all(isinstance(t, str) and len(t) <= _MAX_TAG for t in tags)):
        raise InvalidField(f"'tags' must be a list of at most {_MAX_TAGS} strings of at "
                           f"most {_MAX_TAG} characters", {"field": "tags"})
    execution_id = (request.headers.get("X-Execution-ID") or body.get("execution_id")
                    or request.args.get("execution_id"))
    if not (isinstance(execution_id, str) and execution_id and execution_id.isascii()
            and execution_id.isprintable() and len(execution_id) <= _MAX_ID):
        raise InvalidField("name the execution with the X-Execution-ID header "
                           f"(1 to {_MAX_ID} printable ASCII characters)",
                           {"field": "X-Execution-ID"})
    row = store.fetch_execution(execution_id)  # 404 for an unknown execution
    require(current_principal().acts_as(row["agent_node_id"]), f"node:{row['agent_node_id']}",
            "only the node that runs an execution notes on it")
    note = ExecutionNote(execution_id=execution_id, message=message.strip(), tags=tags)
    db.session.add(note)
    db.session.commit()
    return {"success": True, "note": _note_view(note), "message": "Note added successfully"}


@bp.get("/<execution_id>/notes")
@api_doc("An execution's notes", query={"tags": S.STRING},
         responses={200: S.NOTE_LIST}, errors=(404,))
@requires("authenticated")
def list_notes(execution_id: str):
    readable_execution(execution_id)
    wanted = {t.strip().lower() for t in request.args.get("tags", "").split(",") if t.strip()}
    notes = db.session.scalars(
        db.select(ExecutionNote).where(ExecutionNote.execution_id == execution_id)
        .order_by(ExecutionNote.id)
    ).all()
    views = [_note_view(note) for note in notes
             if not wanted or wanted & {t.lower() for t in note.tags or []}]
    return {"execution_id": execution_id, "notes": views, "total": len(views)}


def _note_view(note: ExecutionNote) -> dict:
    return {"message": note.message, "tags": note.tags or [],
            "timestamp": isoformat(note.created_at)}
