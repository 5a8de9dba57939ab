"""Front-end libraries, served from node_modules as package-lock.json pinned them: htmx for
the pages, Swagger UI and Redoc for the API docs."""

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse

from ticketdesk.errors import NotFound

router = APIRouter(prefix="/assets", include_in_schema=False)
# The repository root, where `make install` puts node_modules.
NODE_MODULES = Path(__file__).resolve().parents[4] / "node_modules"
# The only files served: a name of ours for each, never a path the client chooses.
LIBRARIES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "sse.min.js": "htmx-ext-sse/dist/sse.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-favicon.png": "swagger-ui-dist/favicon-32x32.png",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@router.get("/{name}")
async def library(name: str) -> FileResponse:
    relative = LIBRARIES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        raise NotFound("no such asset (run `make install` to fetch the front-end libraries)")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
