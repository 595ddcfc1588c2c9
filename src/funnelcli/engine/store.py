"""Files funnelcli keeps of its own: one cache folder, one key hash, one atomic write.

Every derived file (a source's Parquet copy, a stored result, a probing memo, a transcoded or
converted copy) is named by `key()` of everything that decides its content, so a change to any
of it makes the old file simply not found. Every file is written beside its final name and
renamed into place (`replacing`), so a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from funnelcli.errors import FunnelError

_BLOCK = 64 * 1024
# The cache folder: Parquet copies of sources at the top (copies.py), the rest one folder down.
RESULTS = "results"  # stored query results (results.py)
READINGS = "readings"  # what probing each CSV found (views.ReadingMemo)
TEXT = "text"  # transcoded copies (text.py)
XLSX = "xlsx"  # converted sheets (text.py)


def default_cache_dir() -> Path:
    """The user cache folder: $FUNNELCLI_CACHE_DIR, else $XDG_CACHE_HOME/funnelcli, else
    ~/.cache/funnelcli. Not created here."""
    explicit = os.environ.get("FUNNELCLI_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore a relative value
        return Path(xdg) / "funnelcli"
    return Path.home() / ".cache" / "funnelcli"


def key(parts: Mapping[str, Any]) -> str:
    """A file name (40 hex digits) that changes with any of `parts` (JSON-ready values)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def fingerprint(path: Path) -> str:
    """Path, size, mtime and a hash of the first and last 64 KiB: cheap even for huge files,
    and an edit that keeps size and mtime still changes the key when it touches either end."""
    stat = path.stat()
    resolved = str(path.resolve())
    # ctime and inode only decide whether the ends are read again in this process: any write,
    # or setting the mtime back, moves the ctime.
    edges = _edges(resolved, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    return f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}|{edges}"


@functools.lru_cache(maxsize=256)
def _edges(path: str, size: int, *_unchanged: int) -> str:
    """The hash of a file's first and last 64 KiB, read once per process for an unchanged file:
    a --cache run fingerprints each file for its copy and again for its results."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as stream:
        digest.update(stream.read(_BLOCK))
        if size > _BLOCK:
            stream.seek(max(_BLOCK, size - _BLOCK))
            digest.update(stream.read(_BLOCK))
    return digest.hexdigest()


def ensure_dir(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FunnelError(f"{folder}: cannot create the cache folder: {exc.strerror}") from None
    return folder


def temp_path(target: Path) -> Path:
    """Where `target` is written before it is renamed into place: beside it, hidden, unique."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


@contextmanager
def scratch(beside: Path, temp: Path | None = None) -> Iterator[Path]:
    """A temporary path (`temp`, else a new one beside `beside`), removed when the block ends."""
    temp = temp or temp_path(beside)
    try:
        yield temp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


@contextmanager
def replacing(target: Path, temp: Path | None = None) -> Iterator[Path]:
    """A temporary path to write `target` to (`temp`, else a new one beside it): renamed over
    `target` when the block ends, removed when it fails. The one atomic write."""
    with scratch(target, temp) as path:
        yield path
        os.replace(path, target)


@contextmanager
def writing(target: Path) -> Iterator[TextIO]:
    """`target` as a UTF-8 text stream (newlines as written), in place when the block ends.
    A new file gets the usual permissions (0666 minus the umask); a replaced one keeps its own."""
    with replacing(target) as temp:
        with open(temp, "x", encoding="utf-8", newline="") as stream:
            yield stream
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, os.stat(target).st_mode & 0o7777)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` to `path` (a user's output file or a record of ours) so readers see the old
    file or the whole new one, never a part; on disk before it replaces the old one. Bytes (an
    .xlsx workbook) are written as they are."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FunnelError(f"{path}: cannot write: folder {folder} does not exist")
    if path.is_dir():
        raise FunnelError(f"{path}: cannot write: it is a directory")
    try:
        if isinstance(text, bytes):
            with replacing(path) as temp, open(temp, "xb") as binary:
                binary.write(text)
                binary.flush()
                os.fsync(binary.fileno())
            return
        with writing(path) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        raise FunnelError(f"{path}: cannot write: {exc.strerror}") from None


class CopiesFolder:
    """Where readable copies of sources (transcoded text, converted sheets) are written: the
    cache folder when there is one, else a private temporary folder, made on first use and
    removed by close(), so a run without the cache leaves nothing behind."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._cache_dir = cache_dir
        self._temporary: Path | None = None

    def path(self) -> Path:
        if self._cache_dir is not None:
            return self._cache_dir
        if self._temporary is None:
            try:
                self._temporary = Path(tempfile.mkdtemp(prefix="funnelcli-copies-"))
            except OSError as exc:
                raise FunnelError(f"cannot create a temporary folder: {exc.strerror}") from None
        return self._temporary

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None
