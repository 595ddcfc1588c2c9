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
import stat
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
_BELOW = (RESULTS, READINGS, TEXT, XLSX)


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


def is_key(name: str) -> bool:
    """Whether a file name's stem is one `key` makes (40 lowercase hex digits)."""
    stem = name.split(".", 1)[0]
    return len(stem) == 40 and all(c in "0123456789abcdef" for c in stem)


def fingerprint(path: Path) -> str:
    """Path, size, mtime, ctime, inode and a hash of the first and last 64 KiB.

    Any write to a file moves its ctime, which (unlike the mtime) no user can set back, so an
    edit anywhere, also one that keeps the size and restores the mtime, changes the key; a file
    replaced by another has another inode. Nothing is read beyond the two ends: a full-content
    hash of a 1 GiB export costs 6.6 s (blake2b) or 0.8 s (xxh3) on every run, where a cached
    re-run takes 0.5 s (docs: benchmarks/RESULTS.md). A metadata-only change (chmod, a copy
    that keeps the mtime) only costs a rebuild."""
    info = path.stat()
    resolved = str(path.resolve())
    edges = _edges(resolved, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    return f"{resolved}|{info.st_size}|{info.st_mtime_ns}|{info.st_ctime_ns}|{info.st_ino}|{edges}"


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


# The Cache Directory Tagging convention (bford.info/cachedir): backup tools skip the folder,
# and `cache clear` deletes only in a folder that carries it.
MARKER = "CACHEDIR.TAG"
_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_MARKER_TEXT = f"{_SIGNATURE}\n# funnelcli cache folder: funnel cache clear empties it.\n"


def ensure_cache(cache_dir: Path) -> Path:
    """The cache folder, created if needed and tagged as funnelcli's (CACHEDIR.TAG). A folder
    that cannot be written keeps working for reads: the tag is then simply not written."""
    ensure_dir(cache_dir)
    tag = cache_dir / MARKER
    if not tag.exists():
        with contextlib.suppress(OSError, FunnelError):
            write_atomic(tag, _MARKER_TEXT)
    return cache_dir


# The cache's record of the files it writes: one path (relative to the cache folder) a line,
# appended before the file (or its temporary name) is created. `cache clear` deletes exactly
# these; a user's file that merely looks like ours is never touched.
RECORD = "funnelcli-files.txt"


def note(path: Path) -> Path:
    """Record `path` (about to be written) in the record of the cache folder it is in (its
    folder or the one above, tagged with CACHEDIR.TAG); nothing for a file elsewhere (a
    private temporary folder). An append of one short line: writers running at the same time
    do not mix their lines. A folder that cannot be written records nothing (and stores
    nothing)."""
    for root in (path.parent, path.parent.parent):
        if (root / MARKER).is_file():
            line = path.relative_to(root).as_posix() + "\n"
            with contextlib.suppress(OSError):
                handle = os.open(root / RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(handle, line.encode("utf-8"))
                finally:
                    os.close(handle)
            break
    return path


def recorded(cache_dir: Path) -> tuple[list[Path], Path | None]:
    """The files the cache recorded (each at most once, inside `cache_dir`), and the record
    taken away (renamed, so writers from now on start a new one) for the caller to delete."""
    taken = cache_dir / f".{RECORD}.{os.getpid()}.{secrets.token_hex(4)}.clearing"
    try:
        os.replace(cache_dir / RECORD, taken)
    except FileNotFoundError:
        return [], None
    root = cache_dir.resolve()
    found: dict[Path, None] = {}
    with open(taken, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            name = line.rstrip("\n")
            if not name or name.startswith("/") or ".." in Path(name).parts:
                continue  # never ours: the record only holds names below the folder
            path = cache_dir / name
            if path.parent.resolve() in (root, *(root / n for n in _BELOW)):
                found[path] = None
    return list(found), taken


def is_cache(folder: Path) -> bool:
    """Whether `folder` carries funnelcli's cache tag."""
    try:
        with open(folder / MARKER, encoding="utf-8", errors="replace") as stream:
            return stream.read(len(_MARKER_TEXT)) == _MARKER_TEXT
    except OSError:
        return False


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
def scratch(beside: Path, temp: Path | None = None, *, cache: bool = False) -> Iterator[Path]:
    """A temporary path (`temp`, else a new one beside `beside`), removed when the block ends;
    with `cache`, noted in the cache's record first (a leftover of a kill is cleared too)."""
    temp = temp or temp_path(beside)
    if cache:
        note(temp)
    try:
        yield temp
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


@contextmanager
def replacing(target: Path, temp: Path | None = None, *, cache: bool = False) -> Iterator[Path]:
    """A temporary path to write `target` to (`temp`, else a new one beside it): renamed over
    `target` when the block ends, removed when it fails. The one atomic write. With `cache`,
    both names are noted in the cache's record first (`note`)."""
    if cache:
        note(target)
    with scratch(target, temp, cache=cache) as path:
        yield path
        os.replace(path, target)


@contextmanager
def writing(target: Path, *, cache: bool = False) -> Iterator[TextIO]:
    """`target` as a UTF-8 text stream (newlines as written), in place when the block ends.
    A new file gets the usual permissions (0666 minus the umask); a replaced one keeps its own.
    With `cache`, noted in the cache's record (`note`)."""
    with replacing(target, cache=cache) as temp:
        with open(temp, "x", encoding="utf-8", newline="") as stream:
            yield stream
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, os.stat(target).st_mode & 0o7777)


def write_atomic(path: Path, text: str | bytes, *, cache: bool = False) -> None:
    """Write `text` to `path` (a user's output file or a record of ours) so readers see the old
    file or the whole new one, never a part; on disk before it replaces the old one. Bytes (an
    .xlsx workbook) are written as they are.

    A symlink is followed (the file it points at is replaced, the link stays). Only a regular
    file is ever replaced: a character device or a named pipe (`/dev/null`, `/dev/stdout`, a
    fifo) is written to in place, like any Unix tool would; a block device or a socket is
    refused. With `cache` (a file of the cache's own), noted in its record (`note`)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise FunnelError(f"{path}: cannot write: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, mode, text)
        return
    target = Path(os.path.realpath(path))  # a symlink stays a symlink
    folder = target.parent
    if not folder.is_dir():
        raise FunnelError(f"{path}: cannot write: folder {path.parent} does not exist")
    try:
        if isinstance(text, bytes):
            with replacing(target, cache=cache) as temp, open(temp, "xb") as binary:
                binary.write(text)
                binary.flush()
                os.fsync(binary.fileno())
            return
        with writing(target, cache=cache) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        raise FunnelError(f"{path}: cannot write: {exc.strerror}") from None


def _write_in_place(path: Path, mode: int, text: str | bytes) -> None:
    """Write to a character device or a fifo without replacing it; refuse anything else."""
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        kind = "a block device" if stat.S_ISBLK(mode) else "not a regular file"
        raise FunnelError(f"{path}: cannot write: it is {kind}; choose a file")
    try:
        if isinstance(text, bytes):
            with open(path, "wb") as binary:
                binary.write(text)
        else:
            with open(path, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
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
            return ensure_cache(self._cache_dir)
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
