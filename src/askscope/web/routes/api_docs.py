"""``/api/docs``: the JSON API's endpoints, listed from the app's OpenAPI schema.

FastAPI's Swagger UI needs inline script and a CDN, which the Content-Security-Policy forbids
(and an offline machine cannot reach); this page lists the same operations, server-rendered.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from askscope.web.templating import render

router = APIRouter()


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    schema: dict[str, Any] = request.app.openapi()
    operations = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        if not path.startswith("/api/"):
            continue
        for method, op in methods.items():
            params = [
                {
                    "name": p.get("name"),
                    "in": p.get("in"),
                    "required": p.get("required", False),
                    "description": p.get("description") or "",
                }
                for p in op.get("parameters", [])
            ]
            operations.append(
                {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": params}
            )
    return render(request, "api_docs.html", {"operations": operations})
