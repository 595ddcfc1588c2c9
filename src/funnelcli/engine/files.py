"""The files behind each declared source: paths and globs resolved, each file checked readable."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from funnelcli.errors import DataError
from funnelcli.spec import Funnel
from funnelcli.sql.tables import origin

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")
_XLSX = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SourceFiles:
    """The files behind one declared source, resolved from its path or glob."""

    name: str
    pattern: str
    files: tuple[Path, ...]

    @property
    def label(self) -> str:
        return self.pattern if len(self.files) != 1 else str(self.files[0])

    @property
    def is_parquet(self) -> bool:
        """Whether the source is Parquet (decided by its first file), else text or .xlsx."""
        return bool(self.files) and is_parquet(self.files[0])

    @property
    def is_table(self) -> bool:
        """A `table:` source: no files here; another engine reads it (sql/tables.py)."""
        return not self.files


def is_parquet(file: Path) -> bool:
    return file.name.lower().endswith(_PARQUET)


def is_xlsx(file: Path) -> bool:
    return file.name.lower().endswith(_XLSX)


def resolve_files(funnel: Funnel, data_dir: Path | None = None) -> dict[str, SourceFiles]:
    """Each source's files: paths relative to the YAML's folder (or `data_dir`), globs sorted;
    none for a `table:` source."""
    base = data_dir or funnel.base_dir
    return {
        name: (
            SourceFiles(name=name, pattern=origin(source), files=())
            if source.table is not None
            else resolve_source(
                funnel, name, source.path, f"sources.{name}.path", base, data_dir is not None
            )
        )
        for name, source in funnel.spec.sources.items()
    }


def resolve_source(
    funnel: Funnel, name: str, path: str, key: str, base: Path, from_data_dir: bool = False
) -> SourceFiles:
    """The files behind one path or glob; errors name the YAML `key` that declared it."""
    pattern = os.path.expanduser(path)
    full = pattern if os.path.isabs(pattern) else str(base / pattern)
    if glob.has_magic(pattern):
        files = tuple(Path(p) for p in sorted(glob.glob(full)) if not os.path.isdir(p))
        if not files:
            raise funnel.error(key, f"no file matches '{path}' (looked in {base})")
    else:
        file = Path(full)
        if file.is_dir():
            raise funnel.error(key, f"'{path}' is a directory, not a file")
        if not file.exists():
            hint = "" if from_data_dir else "; pass --data DIR if the files are in another folder"
            raise funnel.error(key, f"file not found: {file}{hint}")
        files = (file,)
    for file in files:
        if not file.name.lower().endswith(_PARQUET + _CSV + _XLSX):
            raise funnel.error(
                key,
                f"unsupported file type '{file.name}' (use .csv, .tsv, .csv.gz, .parquet or .xlsx)",
            )
        if not os.access(file, os.R_OK):
            raise DataError("permission denied: cannot read the file", file=str(file))
        if file.stat().st_size == 0:
            raise DataError("the file is empty (no header row)", file=str(file))
    return SourceFiles(name=name, pattern=path, files=files)


def declared_files(funnel: Funnel, data_dir: Path | None = None) -> list[Path]:
    """The YAML and every existing file its sources, spend and contracts name (globs expanded,
    missing ones skipped): the files no output may replace."""
    base = data_dir or funnel.base_dir
    patterns = [s.path for s in funnel.spec.sources.values() if s.table is None]
    roi = funnel.spec.roi
    if roi is not None:
        patterns.append(roi.spend.path)
        if roi.subscriptions is not None:
            patterns.append(roi.subscriptions.path)
    found = [Path(funnel.file)]
    for path in patterns:
        pattern = os.path.expanduser(path)
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        found += [Path(p) for p in (glob.glob(full) if glob.has_magic(pattern) else [full])]
    return [p for p in found if p.is_file()]


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path (symlinks followed) or the same
    inode (a hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist
        return False
