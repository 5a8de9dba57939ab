"""Front-end libraries, served from node_modules as package-lock.json pinned them: htmx for
the pages, Chart.js for the admin dashboard, Swagger UI and Redoc for the API docs. Scripts and
styles go gzipped to browsers that accept it (Chart.js is 205 KB as a file, 70 KB on the wire).
"""

import gzip
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

from ticketdesk.errors import NotFound

router = APIRouter(prefix="/assets", include_in_schema=False)
# The repository root, where `make install` puts node_modules.
NODE_MODULES = Path(__file__).resolve().parents[4] / "node_modules"
# The only files served: a name of ours for each, never a path the client chooses.
LIBRARIES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "sse.min.js": "htmx-ext-sse/dist/sse.min.js",
    # Only the admin dashboard loads it.
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-favicon.png": "swagger-ui-dist/favicon-32x32.png",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@lru_cache(maxsize=len(LIBRARIES))
def _content(path: Path) -> tuple[bytes, bytes]:
    """The file and its gzipped form, read once per process."""
    plain = path.read_bytes()
    return plain, gzip.compress(plain, compresslevel=9, mtime=0)


@router.get("/{name}")
async def library(request: Request, name: str) -> Response:
    relative = LIBRARIES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        raise NotFound("no such asset (run `make install` to fetch the front-end libraries)")
    plain, packed = _content(path)
    media_type = MEDIA_TYPES[path.suffix]
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if path.suffix != ".png" and "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type=media_type, headers=headers)
    return Response(plain, media_type=media_type, headers=headers)
