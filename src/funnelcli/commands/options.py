"""What every command shares: how sources are read (RunOptions), and the option values the
CLI and the library both accept (dates, breakdowns), with the YAML's defaults applied here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from funnelcli.errors import UsageError

if TYPE_CHECKING:
    from funnelcli.spec import Funnel
    from funnelcli.spec.duration import Duration

Progress = Callable[[float], None]  # the running query's done fraction, 0..1 (another thread)
Moment = datetime | date | str
Breakdowns = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class RunOptions:
    """How a command reads the funnel's sources (never what it computes)."""

    data_dir: Path | None = None  # resolve relative source paths here, not the YAML's folder
    cache: bool | None = None  # read sources through Parquet copies; None: the YAML's cache:
    cache_dir: Path | None = None  # the cache folder; None: engine.store.default_cache_dir()
    progress: Progress | None = None
    explain: Callable[[str], None] | None = None  # called with each report query's SQL
    spark_master: str | None = None  # --engine spark: run the queries on a SparkSession here
    # rows of a source that may be set aside before a run fails; None: the YAML's max_rejected:
    max_rejected: int | str | None = None
    notice: Callable[[str], None] | None = None  # called with a line for stderr (set-aside rows)

    def cache_folder(self, funnel: Funnel) -> Path | None:
        """Where the Parquet copies and stored results are kept, or None to read the files
        (always with --engine spark: the YAML's `cache:` is DuckDB's)."""
        if self.spark_master is not None:
            if self.cache:
                raise UsageError("--cache is not on Spark yet: drop it with --engine spark")
            return None
        if not (funnel.spec.cache if self.cache is None else self.cache):
            return None
        from funnelcli.engine.store import default_cache_dir

        return self.cache_dir or default_cache_dir()


def source_files(funnel: Funnel, data_dir: Path | None = None) -> list[Path]:
    """Every file the funnel's sources read (paths and globs resolved)."""
    from funnelcli.engine import resolve_files

    return [f for found in resolve_files(funnel, data_dir).values() for f in found.files]


def check_outputs(funnel: Funnel, data_dir: Path | None, **outputs: Path | None) -> None:
    """Refuse an output (`--output`, `--rejects`: the keyword names the option) that is one of
    the funnel's inputs: the YAML, a source, the spend or contracts file, also through a
    symlink or a hard link. Checked before anything is read, so nothing is lost."""
    from funnelcli.engine.files import declared_files, same_file

    wanted = {option: path for option, path in outputs.items() if path is not None}
    if not wanted:
        return
    inputs = declared_files(funnel, data_dir)
    for option, path in wanted.items():
        for source in inputs:
            if same_file(path, source):
                flag = "--" + option.replace("_", "-")
                raise UsageError(
                    f"{flag} {path}: that is an input of the funnel ({source}); "
                    "write to another file"
                )


def moment(value: Moment | None, option: str, zone: str = "UTC") -> datetime | None:
    """A date or time as naive UTC: `2025-03-01`, `2025-03-01T08:00`, an aware time (converted
    to UTC), a date or a datetime. A value without an offset is wall-clock time in `zone` (the
    YAML's `timezone:`): a date is local midnight. `option` names it in the error."""
    if value is None:
        return None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    else:
        try:
            found = datetime.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(
                f"{option}: expected a date like 2025-03-01 or 2025-03-01T08:00, got {value!r}"
            ) from None
    if found.tzinfo is None and zone != "UTC":
        from zoneinfo import ZoneInfo

        found = found.replace(tzinfo=ZoneInfo(zone))
    if found.tzinfo is not None:  # the data's times are compared in UTC
        found = found.astimezone(UTC).replace(tzinfo=None)
    return found


def duration(text: str | None, option: str) -> Duration | None:
    """A duration such as `14d` or `6mo`; `option` names it in the error."""
    from funnelcli.spec.duration import Duration

    if text is None:
        return None
    try:
        return Duration.parse(text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


def period(
    since: Moment | None, until: Moment | None, zone: str = "UTC"
) -> tuple[datetime | None, datetime | None]:
    """--since and --until as UTC moments, read in `zone` when they carry no offset (the
    YAML's `timezone:`); the range must not be empty."""
    start, end = moment(since, "--since", zone), moment(until, "--until", zone)
    if start and end and start >= end:
        raise UsageError("--since must be before --until")
    return start, end


def breakdowns(by: str | Iterable[str | Iterable[str]] | None) -> Breakdowns | None:
    """The breakdowns asked for (`"a,b"` crosses two columns; several are separate tables);
    None when none is (then the command uses the YAML's `breakdown:`)."""
    items = [by] if isinstance(by, str) else list(by or ())
    if not items:
        return None
    groups = []
    for item in items:
        parts = item.split(",") if isinstance(item, str) else list(item)
        names = tuple(part.strip() for part in parts if part.strip())
        if not names:
            raise UsageError("--by needs a column name, e.g. --by channel or --by channel,segment")
        groups.append(names)
    return tuple(groups)
