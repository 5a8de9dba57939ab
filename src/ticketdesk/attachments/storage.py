"""Where attachment bytes live: one interface, a local folder or an S3-compatible bucket.

Bytes are stored under their SHA-256 (`ab/cd/abcd…`), so identical files share one object.
A key is written whole or not at all: the local store links a fully written, fsynced file
into place; S3 makes an object visible only when its upload completes.
"""

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import anyio
import obstore
from obstore.store import S3Store

from ticketdesk.config import Settings

CHUNK = 1024 * 1024


def key_for(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class StoredObject:
    sha256: str
    modified_at: datetime


class Storage(Protocol):
    """Content-addressed bytes. Every method is safe to repeat."""

    @property
    def temp_dir(self) -> Path:
        """Where uploads are spooled before they are stored."""

    async def put_file(self, sha256: str, path: Path) -> None:
        """Store the file's bytes (whose hash is `sha256`); refreshes the key's time if present."""

    async def exists(self, sha256: str) -> bool: ...

    async def modified_at(self, sha256: str) -> datetime | None:
        """When the key was last written, or None if it is absent."""

    def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive), in chunks."""

    async def delete(self, sha256: str) -> None:
        """Remove the bytes; no error if they are already gone."""

    def objects(self) -> AsyncIterator[StoredObject]:
        """Every stored key with its last write time (for the orphan sweep)."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._temp = root / ".tmp"

    @property
    def temp_dir(self) -> Path:
        self._temp.mkdir(parents=True, exist_ok=True)
        return self._temp

    def _path(self, sha256: str) -> Path:
        return self.root / key_for(sha256)

    async def put_file(self, sha256: str, path: Path) -> None:
        await anyio.to_thread.run_sync(self._put, sha256, path)

    def _put(self, sha256: str, path: Path) -> None:
        target = self._path(sha256)
        if target.exists():
            # Identical bytes are already there; a fresh time keeps the orphan sweep off them.
            os.utime(target)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # A private copy linked into place: the key appears whole, after its bytes are on disk.
        partial = target.parent / f".{sha256}.{secrets.token_hex(6)}"
        try:
            try:
                os.link(path, partial)
            except OSError:  # another filesystem: copy instead
                _copy(path, partial)
            _fsync(partial)
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        _fsync_dir(target.parent)

    async def exists(self, sha256: str) -> bool:
        return await anyio.to_thread.run_sync(self._path(sha256).exists)

    async def modified_at(self, sha256: str) -> datetime | None:
        try:
            found = await anyio.to_thread.run_sync(self._path(sha256).stat)
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(found.st_mtime, UTC)

    async def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        file = await anyio.to_thread.run_sync(open, self._path(sha256), "rb")
        try:
            await anyio.to_thread.run_sync(file.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(file.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(self._path(sha256).unlink)

    async def objects(self) -> AsyncIterator[StoredObject]:
        for found in await anyio.to_thread.run_sync(self._scan):
            yield found

    def _scan(self) -> list[StoredObject]:
        found = []
        for path in self.root.glob("??/??/*"):
            if len(path.name) == 64 and not path.name.startswith("."):
                with contextlib.suppress(FileNotFoundError):
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    found.append(StoredObject(path.name, modified))
        return found


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(CHUNK):
            writer.write(chunk)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)


class S3Storage:
    """Any S3-compatible store (AWS, MinIO, Ceph, R2) through obstore."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        temp_dir: Path,
        endpoint_url: str | None,
        region: str | None,
    ) -> None:
        config: dict[str, str] = {"region": region or "us-east-1"}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        for name, variable in (
            ("access_key_id", "AWS_ACCESS_KEY_ID"),
            ("secret_access_key", "AWS_SECRET_ACCESS_KEY"),
            ("session_token", "AWS_SESSION_TOKEN"),
        ):
            if os.environ.get(variable):
                config[name] = os.environ[variable]
        self.store = S3Store(
            bucket,
            prefix=prefix or None,
            config=config,  # type: ignore[arg-type]
            client_options={
                "allow_http": bool(endpoint_url and endpoint_url.startswith("http://")),
                "timeout": "300s",
            },
        )
        self._temp = temp_dir

    @property
    def temp_dir(self) -> Path:
        self._temp.mkdir(parents=True, exist_ok=True)
        return self._temp

    async def put_file(self, sha256: str, path: Path) -> None:
        # Always written: a fresh object time keeps the orphan sweep off bytes just sent.
        await obstore.put_async(self.store, key_for(sha256), path)

    async def exists(self, sha256: str) -> bool:
        return await self.modified_at(sha256) is not None

    async def modified_at(self, sha256: str) -> datetime | None:
        try:
            meta = await obstore.head_async(self.store, key_for(sha256))
        except FileNotFoundError:
            return None
        return meta["last_modified"]

    async def read(self, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
        result = await obstore.get_async(
            self.store, key_for(sha256), options={"range": (start, end + 1)}
        )
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield chunk

    async def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key_for(sha256))

    async def objects(self) -> AsyncIterator[StoredObject]:
        async for batch in obstore.list(self.store, chunk_size=1000):
            for meta in batch:
                name = meta["path"].rsplit("/", 1)[-1]
                if len(name) == 64:
                    yield StoredObject(name, meta["last_modified"])


@lru_cache(maxsize=8)
def open_storage(
    url: str, *, data_dir: Path, endpoint_url: str | None, region: str | None
) -> Storage:
    """The store a TICKETDESK_STORAGE_URL names: `file:///path` or `s3://bucket/prefix`."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.netloc + parts.path))
    if parts.scheme == "s3" and parts.netloc:
        return S3Storage(
            parts.netloc,
            parts.path.strip("/"),
            temp_dir=data_dir / "upload-tmp",
            endpoint_url=endpoint_url,
            region=region,
        )
    raise ValueError(f"unsupported storage URL {url!r}: use file:///path or s3://bucket/prefix")


def storage_for(settings: Settings) -> Storage:
    return open_storage(
        settings.effective_storage_url,
        data_dir=settings.data_dir.resolve(),
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )
