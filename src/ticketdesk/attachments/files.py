"""Pure rules about files: names, types sniffed from bytes, executables, download headers."""

import re
import unicodedata
from urllib.parse import quote

import puremagic

# How many leading bytes type sniffing reads.
HEAD_SIZE = 8192
MAX_NAME_BYTES = 255

EXECUTABLE_EXTENSIONS = frozenset(
    {
        ".exe", ".dll", ".bat", ".cmd", ".com", ".js", ".msi", ".scr", ".ps1", ".sh",
        ".vbs", ".jse", ".wsf", ".cpl", ".jar", ".app", ".pif", ".hta",
    }
)  # fmt: skip
EXECUTABLE_MAGIC = (
    b"\x7fELF",  # ELF
    b"MZ",  # PE (Windows)
    b"\xfe\xed\xfa\xce",  # Mach-O 32
    b"\xfe\xed\xfa\xcf",  # Mach-O 64
    b"\xce\xfa\xed\xfe",  # Mach-O 32, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64, little-endian
    b"\xca\xfe\xba\xbe",  # Mach-O universal
    b"#!",  # a script with an interpreter line
)
# Served inline on request (`?inline=1`); everything else is always a download.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
_MARKUP = re.compile(rb"<(!doctype\s+html|html|head|body|script|iframe|svg)[\s>/]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_filename(name: str | None) -> str:
    """The base name only, control characters removed, at most 255 bytes of UTF-8."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip().strip(".").strip()
    name = name.encode("utf-8", "ignore").decode("utf-8")
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        suffix = f".{ext}" if dot and len(ext.encode()) <= 16 else ""
        stem = stem if suffix else name
        budget = MAX_NAME_BYTES - len(suffix.encode())
        stem = stem.encode()[:budget].decode("utf-8", "ignore")
        name = stem + suffix
    return name or "file"


def extension(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


def is_executable(name: str, head: bytes) -> bool:
    """By extension, or by an executable or script header in the first bytes."""
    return extension(name) in EXECUTABLE_EXTENSIONS or head.startswith(EXECUTABLE_MAGIC)


def sniff(head: bytes, name: str) -> str:
    """The content type from the bytes; the client's declared type is never trusted."""
    if _MARKUP.search(head[:1024].lstrip()[:512]) or _MARKUP.match(head.lstrip()):
        # Markup is typed as what a browser would take it for, so it is never shown inline.
        return "image/svg+xml" if b"<svg" in head.lower() else "text/html"
    try:
        found = puremagic.from_string(head, mime=True, filename=name) if head else ""
    except puremagic.PureError:
        found = ""
    if found and not found.startswith("text/"):
        return str(found)
    if _is_text(head):
        return f"{found or 'text/plain'}; charset=utf-8"
    if found:
        return str(found)
    return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sniffed head is still text.
        return error.start >= len(head) - 3
    return True


def may_be_inline(content_type: str) -> bool:
    return content_type in INLINE_TYPES


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name and the real one as RFC 5987 `filename*`."""
    kind = "inline" if inline else "attachment"
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    fallback = fallback.replace("?", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """One byte range of `bytes=a-b`, `a-` or `-n` as (start, end inclusive).

    None: no usable range (serve everything); False: unsatisfiable (416). Several ranges
    are served as the whole file, which RFC 9110 allows.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, dash, last = header[6:].strip().partition("-")
    if not dash or not (first or last):
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        if int(last) == 0 or size == 0:
            return False
        return max(size - int(last), 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    return start, min(int(last), size - 1) if last else size - 1
