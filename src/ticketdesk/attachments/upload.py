"""Multipart uploads parsed as they stream in: files go to temporary files, hashed and counted
on the way, and a request is refused the moment it passes a limit (chunked bodies too).

`MultipartUploads` handles the routes that take files. It parses the body, scans and stores
the files (outside any database transaction), then hands the route the form fields as the
same JSON body it accepts anyway, and the stored files in `request.state.uploads`. So a
ticket or a reply and its files are one request, and the JSON API stays exactly as it was.

The pages' forms with a file input go through the same parser and limits; their fields reach
the page as an ordinary urlencoded form, and a refused upload does not end the request: the
page gets `request.state.upload_error` and shows it beside what the person typed (the file
input comes last in each form, so every field arrives before a refused file).
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import mkstemp
from typing import IO, Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketdesk.attachments import files, scan
from ticketdesk.attachments.storage import Storage, storage_for
from ticketdesk.config import Settings
from ticketdesk.errors import DomainError, Unauthorized

MIB = 1024 * 1024
MAX_FIELD_BYTES = 256 * 1024
MAX_FIELDS = 50
# Form fields whose JSON counterpart is not a string.
INT_FIELDS = frozenset({"user_id", "comment_id"})
BOOL_FIELDS = frozenset({"is_internal", "is_resolution"})
UPLOAD_PATHS = re.compile(r"^/api/v1/tickets(/[^/]+/(comments|attachments))?$")
PAGE_UPLOAD_PATHS = re.compile(
    r"^/(portal/tickets/new|portal/tickets/[^/]+/reply|desk/tickets/[^/]+/comments)$"
)
PAGE_SESSION_COOKIE = "ticketdesk_session"


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedFile(DomainError):
    status_code = 415


class BadForm(DomainError):
    status_code = 400


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    request_bytes: int
    max_files: int
    allow_executables: bool

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            file_bytes=int(settings.max_upload_mb * MIB),
            request_bytes=int(settings.max_upload_request_mb * MIB),
            max_files=settings.max_upload_files,
            allow_executables=settings.allow_executable_uploads,
        )


@dataclass
class UploadedFile:
    """A file received whole: its bytes in `path` (a temporary file) until the request ends."""

    filename: str
    declared_type: str | None
    content_type: str
    size: int
    sha256: str
    path: Path


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    declared_type: str | None = None
    data: bytearray = field(default_factory=bytearray)
    head: bytearray = field(default_factory=bytearray)
    writer: IO[bytes] | None = None
    path: Path | None = None
    size: int = 0
    hasher: Any = None


class FormStream:
    """One multipart body, fed chunk by chunk."""

    def __init__(self, boundary: bytes, limits: Limits, temp_dir: Path) -> None:
        self.limits = limits
        self.temp_dir = temp_dir
        self.fields: dict[str, list[str]] = {}
        self.files: list[UploadedFile] = []
        self.temp_paths: list[Path] = []
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._field_count = 0
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._end,
            },
        )

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except MultipartParseError as error:
            raise BadForm(f"malformed multipart body: {error}") from None

    def finish(self) -> None:
        self.parser.finalize()
        if self._part.writer is not None:
            raise BadForm("malformed multipart body: it ended inside a part")

    def discard(self) -> None:
        """Removes every temporary file (on refusal, and once the request is over)."""
        if self._part.writer is not None:
            self._part.writer.close()
        for path in self.temp_paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name, self._header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        part = self._part
        part.name = _decode(options.get(b"name", b""), "part name")
        if b"filename" not in options:
            self._field_count += 1
            if self._field_count > MAX_FIELDS:
                raise BadForm(f"at most {MAX_FIELDS} form fields")
            return
        if len(self.files) >= self.limits.max_files:
            raise PayloadTooLarge(f"at most {self.limits.max_files} files per request")
        raw_name = _decode(options[b"filename"], "file name")
        part.filename = files.clean_filename(raw_name) if raw_name else ""
        declared = self._headers.get(b"content-type")
        part.declared_type = declared.decode("latin-1")[:255] if declared else None
        self._refuse_executable(part.filename, b"")
        descriptor, name = mkstemp(dir=self.temp_dir, prefix="upload-")
        part.path = Path(name)
        self.temp_paths.append(part.path)
        part.writer = open(descriptor, "wb")  # noqa: SIM115 - closed at the part's end
        part.hasher = hashlib.sha256()

    def _data(self, data: bytes, start: int, end: int) -> None:
        part, chunk = self._part, data[start:end]
        if part.writer is None:
            if len(part.data) + len(chunk) > MAX_FIELD_BYTES:
                raise PayloadTooLarge(f"form field {part.name!r} is too large")
            part.data += chunk
            return
        part.size += len(chunk)
        if part.size > self.limits.file_bytes:
            raise PayloadTooLarge(
                f"{part.filename!r} is larger than the limit of "
                f"{self.limits.file_bytes // MIB} MiB per file"
            )
        if len(part.head) < files.HEAD_SIZE:
            part.head += chunk[: files.HEAD_SIZE - len(part.head)]
            self._refuse_executable(part.filename or "", bytes(part.head))
        part.hasher.update(chunk)
        part.writer.write(chunk)

    def _end(self) -> None:
        part = self._part
        if part.writer is None:
            self.fields.setdefault(part.name, []).append(_decode(bytes(part.data), part.name))
            return
        part.writer.close()
        part.writer = None
        assert part.path is not None and part.filename is not None
        if part.size == 0 and not part.filename:
            return  # an empty file input of a browser form
        self.files.append(
            UploadedFile(
                filename=part.filename or "file",
                declared_type=part.declared_type,
                content_type=files.sniff(bytes(part.head), part.filename),
                size=part.size,
                sha256=part.hasher.hexdigest(),
                path=part.path,
            )
        )

    def _refuse_executable(self, filename: str, head: bytes) -> None:
        if not self.limits.allow_executables and files.is_executable(filename, head):
            raise UnsupportedFile(f"{filename!r} is an executable or a script; not accepted")

    def form_body(self) -> bytes:
        """The form fields as a urlencoded body (for the pages)."""
        return urlencode(
            [(name, value) for name, values in self.fields.items() for value in values]
        ).encode()

    def json_body(self) -> bytes:
        """The form fields as the JSON body the route accepts."""
        body: dict[str, Any] = {}
        for name, values in self.fields.items():
            converted = [_convert(name, value) for value in values]
            body[name] = converted[0] if len(converted) == 1 else converted
        return json.dumps(body).encode()


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadForm(f"{what} is not valid UTF-8") from None


def _convert(name: str, value: str) -> Any:
    if name in INT_FIELDS and value.isascii() and value.isdigit():
        return int(value)
    if name in BOOL_FIELDS and value.lower() in ("true", "false", "1", "0", "on"):
        return value.lower() in ("true", "1", "on")
    return value


async def receive_form(
    receive: Receive, headers: Headers, limits: Limits, temp_dir: Path
) -> FormStream:
    """Reads the whole body into a FormStream, refusing it as soon as it breaks a limit."""
    _, options = parse_options_header(headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadForm("multipart body without a boundary")
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.request_bytes:
        raise PayloadTooLarge(f"the request is larger than {limits.request_bytes // MIB} MiB")
    form = FormStream(boundary, limits, temp_dir)
    received = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadForm("the client went away")
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limits.request_bytes:
                raise PayloadTooLarge(
                    f"the request is larger than {limits.request_bytes // MIB} MiB"
                )
            form.write(chunk)
            if not message.get("more_body", False):
                break
        form.finish()
    except BaseException:
        form.discard()
        raise
    return form


async def receive_page_form(
    receive: Receive, headers: Headers, limits: Limits, temp_dir: Path
) -> tuple[FormStream, DomainError | None]:
    """Like `receive_form`, but a refused file keeps the fields before it: the rest of the
    body (up to the request limit) is read and dropped, so the browser gets the page back."""
    _, options = parse_options_header(headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadForm("multipart body without a boundary")
    form = FormStream(boundary, limits, temp_dir)
    received = 0
    refused: DomainError | None = None
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadForm("the client went away")
            chunk = message.get("body", b"")
            received += len(chunk)
            over = received > limits.request_bytes
            if over:
                # The fields before the limit still count: they come ahead of the files.
                chunk = chunk[: max(0, len(chunk) - (received - limits.request_bytes))]
            if refused is None:
                try:
                    form.write(chunk)
                except DomainError as error:
                    refused = error
            if over:
                refused = refused or PayloadTooLarge(
                    f"the request is larger than {limits.request_bytes // MIB} MiB"
                )
                break
            if not message.get("more_body", False):
                break
        if refused is None:
            form.finish()
    except BaseException:
        form.discard()
        raise
    if refused is not None:
        form.discard()
        form.files = []
    return form, refused


async def store_uploads(
    storage: Storage, uploaded: list[UploadedFile], *, clamd_url: str | None
) -> None:
    """Scans (when a scanner is configured) and stores every file; refuses all if one fails."""
    if clamd_url:
        for upload in uploaded:
            await scan.check(clamd_url, upload.path, upload.filename)
    for upload in uploaded:
        await storage.put_file(upload.sha256, upload.path)


def _has_credentials(headers: Headers) -> bool:
    return "authorization" in headers or "cookie" in headers


class MultipartUploads:
    """ASGI middleware for the routes that accept files (see the module's docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._applies(scope, PAGE_UPLOAD_PATHS):
            await self._page(scope, receive, send)
            return
        if not self._applies(scope, UPLOAD_PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        storage = storage_for(self.settings)
        form: FormStream | None = None
        try:
            if not _has_credentials(headers):
                raise Unauthorized("not authenticated")
            form = await receive_form(receive, headers, Limits.of(self.settings), storage.temp_dir)
            await store_uploads(storage, form.files, clamd_url=self.settings.clamd_url)
        except DomainError as error:
            if form is not None:
                form.discard()
            await _refuse(error)(scope, receive, send)
            return
        try:
            body = form.json_body()
            scope = _as_json(scope, body)
            scope.setdefault("state", {})["uploads"] = form.files
            await self.app(scope, _replay(body, receive), send)
        finally:
            form.discard()

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A page's form: the fields as a urlencoded body, the files (or why they were
        refused) in the request's state. The page checks the session and the CSRF token."""
        headers = Headers(scope=scope)
        if PAGE_SESSION_COOKIE not in headers.get("cookie", ""):
            await RedirectResponse("/login", status_code=303)(scope, receive, send)
            return
        storage = storage_for(self.settings)
        try:
            form, refused = await receive_page_form(
                receive, headers, Limits.of(self.settings), storage.temp_dir
            )
        except DomainError as error:
            await _refuse(error)(scope, receive, send)
            return
        try:
            if refused is None:
                try:
                    await store_uploads(storage, form.files, clamd_url=self.settings.clamd_url)
                except DomainError as error:
                    refused, form.files = error, []
            body = form.form_body()
            scope = _as_form(scope, body)
            state = scope.setdefault("state", {})
            state["uploads"], state["upload_error"] = form.files, refused
            await self.app(scope, _replay(body, receive), send)
        finally:
            form.discard()

    @staticmethod
    def _applies(scope: Scope, paths: re.Pattern[str]) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        if not paths.match(scope["path"]):
            return False
        content_type = Headers(scope=scope).get("content-type", "")
        return content_type.lower().startswith("multipart/form-data")


def _refuse(error: DomainError) -> JSONResponse:
    headers = {"Connection": "close"}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)


def _as_json(scope: Scope, body: bytes) -> Scope:
    return _with_body(scope, body, b"application/json")


def _as_form(scope: Scope, body: bytes) -> Scope:
    return _with_body(scope, body, b"application/x-www-form-urlencoded")


def _with_body(scope: Scope, body: bytes, content_type: bytes) -> Scope:
    kept = [
        (name, value)
        for name, value in scope["headers"]
        if name not in (b"content-type", b"content-length", b"transfer-encoding")
    ]
    kept += [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
    return dict(scope, headers=kept)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def request_files(request: Request) -> list[UploadedFile]:
    """The files the upload middleware took from this request's body."""
    return list(getattr(request.state, "uploads", []))


async def uploaded_files(request: Request) -> list[UploadedFile]:
    return request_files(request)


Uploads = Annotated[list[UploadedFile], Depends(uploaded_files)]


def upload_error(request: Request) -> DomainError | None:
    """Why a page's files were refused (413, 415, 422, 503), if they were."""
    error = getattr(request.state, "upload_error", None)
    return error if isinstance(error, DomainError) else None
