"""The OpenAPI 3.1 document, built from the declarations beside each view.

``api_doc`` (declaration.py) attaches a view's request and response schemas to the view
function; ``build_document`` (document.py) walks the app's URL map and turns every route
into an operation; ``bp`` serves it at ``GET /openapi.json``. Imports Flask only (no
other package of ours), so every blueprint may import it.
"""

from app.openapi.declaration import api_doc
from app.openapi.document import build_document
from app.openapi.views import bp

__all__ = ["api_doc", "build_document", "bp"]
