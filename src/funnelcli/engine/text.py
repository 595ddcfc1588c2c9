"""Sources as text DuckDB can read: encodings detected and transcoded, .xlsx sheets converted.

DuckDB reads UTF-8 and Latin-1 itself. UTF-16 and GB18030/GBK (what Excel on Chinese Windows
writes) are decoded here chunk by chunk (an incremental decoder, never the whole file in memory)
into a UTF-8 copy in the copies folder (store.CopiesFolder). The original file is only ever
opened for reading.

DuckDB's excel extension needs a download, which is not available offline, so an .xlsx sheet is
converted row by row (openpyxl's read-only mode, never the whole workbook in memory) to a CSV
that DuckDB then reads like any other. Dates stored as Excel dates become ISO text; numbers
keep their value (integral floats lose the `.0`); empty cells become empty fields.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from funnelcli.engine import store
from funnelcli.errors import DataError

_SAMPLE = 1 << 16
_CHUNK = 1 << 20


def _open(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def head_bytes(path: Path, size: int = _SAMPLE) -> bytes:
    """The first `size` bytes of the (decompressed) file."""
    try:
        with _open(path) as handle:
            return handle.read(size)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read: {exc}", file=str(path)) from None


def detect(head: bytes) -> str:
    """The encoding of a file from its first bytes.

    Rules, in order: a BOM decides (UTF-8, UTF-16 LE/BE); NUL bytes in every other position
    mean BOM-less UTF-16; bytes that decode as UTF-8 are UTF-8 (plain ASCII included); bytes
    that decode as GB18030 (a superset of GBK and GB2312) with most two-byte characters made of
    two high bytes (as all of GB2312 is) are GB18030; anything else is Latin-1.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        enough = max(2, len(sample) // 16)  # ASCII (commas, newlines, digits) has a NUL byte
        for nuls, other, candidate in (
            (odd_nuls, even_nuls, "utf-16-le"),
            (even_nuls, odd_nuls, "utf-16-be"),
        ):
            if nuls >= enough and other == 0:
                try:
                    sample[: len(sample) // 2 * 2].decode(candidate)
                except UnicodeDecodeError:
                    continue
                return candidate
    for candidate in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(candidate)()
        try:
            text = decoder.decode(head, final=len(head) < _SAMPLE)
        except UnicodeDecodeError:
            continue
        if candidate == "gb18030" and not _looks_chinese(text):
            break
        return candidate
    return "latin-1"


def _looks_chinese(text: str) -> bool:
    """Most two-byte characters have a trail byte >= 0x80, as every GB2312 character has.

    Latin-1 text often decodes as GB18030 too ('Zürich': 0xFC 0x72 is a GBK character), but
    there a high byte is followed by an ASCII letter.
    """
    wide = [c.encode("gb18030") for c in text if ord(c) > 0x7F]
    pairs = [b for b in wide if len(b) == 2]
    if not pairs:
        return bool(wide)
    return sum(b[1] >= 0x80 for b in pairs) * 2 > len(pairs)


def readable(path: Path, declared: str, folder: Path) -> tuple[Path, str]:
    """(file DuckDB should read, the encoding to give DuckDB) for a CSV source file.

    UTF-8 (with or without BOM) and Latin-1 are read in place; everything else is transcoded
    once to a UTF-8 copy keyed by the original's path, size, mtime, first 64 KiB and encoding.
    """
    head = head_bytes(path)
    encoding = detect(head) if declared == "auto" else declared
    if not encoding.startswith("utf-16") and b"\x00" in head:
        raise DataError(
            "binary data (NUL bytes), not CSV text; check the path or declare encoding: utf-16",
            file=str(path),
        )
    if encoding in ("utf-8", "utf-8-sig"):
        return path, "utf-8"
    if encoding == "latin-1":
        return path, "latin-1"
    return transcode(path, encoding, folder), "utf-8"


TEXT_FORMAT = 2  # 2: named by store.key of the file's fingerprint (was a sha256 of its head)


def _copy_path(folder: Path, kind: str, original: Path, *parts: str) -> Path:
    """`<folder>/<kind>/<key>.csv`: a derived copy's name, which changes whenever the original
    (path, size, mtime, first and last 64 KiB) or any of `parts` does."""
    name = store.key(
        {"format": TEXT_FORMAT, "file": store.fingerprint(original), "parts": list(parts)}
    )
    return folder / kind / f"{name}.csv"


@contextmanager
def _writing_copy(target: Path) -> Iterator[TextIO]:
    """A UTF-8 copy in `target`'s folder (created if needed), in place when the block ends."""
    with ExitStack() as stack:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            stream = stack.enter_context(store.writing(target, cache=True))
        except OSError as exc:
            raise DataError(
                f"cannot write the cache ({exc.strerror}); "
                "set FUNNELCLI_CACHE_DIR to a writable folder",
                file=str(target.parent),
            ) from None
        yield stream


def transcode(path: Path, encoding: str, folder: Path) -> Path:
    """Stream `path` from `encoding` into `<folder>/text/<key>.csv` (UTF-8); reuse if present."""
    target = _copy_path(folder, store.TEXT, path, encoding)
    if target.exists():
        return target
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    done = 0
    with _open(path) as source, _writing_copy(target) as out:
        while True:
            chunk = source.read(_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                partial = chunk[: exc.start].decode(encoding, errors="replace")
                at = line + partial.count("\n")
                raise DataError(
                    f"bytes at offset {done + exc.start} are not valid {encoding} "
                    "(declare the right encoding: or use encoding: auto)",
                    file=str(path),
                    line=at,
                ) from None
            if text:
                text = text.removeprefix("\ufeff") if done == 0 else text
                out.write(text)
                line += text.count("\n")
            done += len(chunk)
            if not chunk:
                break
    return target


def with_lf(path: Path, folder: Path) -> Path | None:
    """A copy of `path` (the bytes DuckDB reads: an original or a UTF-8 copy) with every CRLF
    made LF, when its lines end both ways (DuckDB's sniffer refuses such a file); None when
    they end one way only. A CRLF is one line break either way, so line numbers hold."""
    crlf = lf = 0
    previous = b""
    with _open(path) as stream:
        while chunk := stream.read(_CHUNK):
            joined = previous + chunk
            crlf += joined.count(b"\r\n") - previous.count(b"\r\n")
            lf += chunk.count(b"\n")
            previous = chunk[-1:]
    if not crlf or crlf == lf:
        return None
    target = _copy_path(folder, store.TEXT, path, "lf")
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            store.replacing(target, cache=True) as temp,
            _open(path) as source,
            open(temp, "xb") as out,
        ):
            carry = b""
            while chunk := source.read(_CHUNK):
                text = carry + chunk
                carry = text[-1:] if text.endswith(b"\r") else b""
                out.write((text[:-1] if carry else text).replace(b"\r\n", b"\n"))
            out.write(carry)
    except OSError as exc:
        raise DataError(
            f"cannot write the cache ({exc.strerror}); set FUNNELCLI_CACHE_DIR to a writable "
            "folder",
            file=str(target.parent),
        ) from None
    return target


class SheetNotFound(Exception):
    """The requested sheet is not in the workbook (the caller names the YAML key)."""

    def __init__(self, sheet: str | int, names: list[str]) -> None:
        super().__init__(str(sheet))
        self.sheet = sheet
        self.names = names


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(path: Path, sheet: str | int | None, folder: Path) -> Path:
    """The sheet (name, 0-based index, or the first) as `<folder>/xlsx/<key>.csv`."""
    target = _copy_path(folder, store.XLSX, path, repr(sheet))
    if target.exists():
        return target
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", file=str(path)) from None
    try:
        names = list(workbook.sheetnames)
        if sheet is None:
            worksheet = workbook[names[0]]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SheetNotFound(sheet, names)
            worksheet = workbook[names[sheet]]
        elif sheet in names:
            worksheet = workbook[sheet]
        else:
            raise SheetNotFound(sheet, names)
        _require_saved_values(path, getattr(worksheet, "_worksheet_path", None))
        with _writing_copy(target) as out:
            writer = csv.writer(out)
            for row in worksheet.iter_rows(values_only=True):
                writer.writerow([_cell(v) for v in row])
    finally:
        workbook.close()
    return target


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _require_saved_values(path: Path, member: str | None) -> None:
    """A formula cell whose result was never saved (a workbook written by a program, not
    recalculated by a spreadsheet) reads as empty: refuse it, naming the cell, rather than
    count its rows as missing values. One streaming pass over the sheet's XML."""
    if member is None:
        return
    from xml.etree.ElementTree import ParseError, iterparse

    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            for _, element in iterparse(stream):
                if element.tag != f"{_SHEET_NS}c":
                    continue
                formula = element.find(f"{_SHEET_NS}f")
                value = element.find(f"{_SHEET_NS}v")
                if formula is not None and (value is None or not (value.text or "")):
                    shown = f" (={formula.text})" if formula.text else ""
                    raise DataError(
                        f"cell {element.get('r', '?')} holds a formula{shown} with no saved "
                        "value; open and save the workbook in a spreadsheet program (or export "
                        "the sheet as CSV) so its results are stored",
                        file=str(path),
                    )
                element.clear()
    except (zipfile.BadZipFile, KeyError, OSError, ParseError) as exc:
        raise DataError(f"not a readable .xlsx workbook ({exc})", file=str(path)) from None
