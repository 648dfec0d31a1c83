"""``GET /openapi.json``: the document, built once per process on first request."""

from flask import Blueprint, current_app

from app.auth.policy import requires
from app.openapi.declaration import api_doc
from app.openapi.document import build_document

bp = Blueprint("openapi", __name__)

_OPENAPI_DOCUMENT = {"type": "object", "required": ["openapi", "info", "paths"]}


@bp.get("/openapi.json")
@api_doc("This API's OpenAPI 3.1 document", responses={200: _OPENAPI_DOCUMENT},
         tags=["meta"])
@requires("public")
def get_openapi_document():
    document = current_app.extensions.get("openapi_document")
    if document is None:
        # Routes are fixed once the app serves, so one build per process is enough.
        document = current_app.extensions["openapi_document"] = build_document(current_app)
    return document
