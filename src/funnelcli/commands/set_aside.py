"""No silent loss: rows a run set aside (a time it cannot read) are said, in one line per
source, and past a threshold (`max_rejected:`, `--max-rejected`; default 1% of a source's rows)
they stop the run before anything is printed.

`leads.csv: 200 of 200 rows (100%) set aside: created_at 'TBD' at line 2 is not a date in the
detected format (funnel report --rejects FILE lists them)`
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from funnelcli.engine import Engine, SetAside
from funnelcli.errors import DataError, UsageError
from funnelcli.sql.dates import UNPARSEABLE

if TYPE_CHECKING:
    from funnelcli.commands.options import RunOptions
    from funnelcli.spec import Funnel

# a rejected value's reason → how the line says it
_SAID = {
    UNPARSEABLE: "is not a date in the detected format",
}


def allowed_rows(limit: int | str, total: int) -> int:
    """How many of `total` rows may be set aside under `limit` (rows, or `N%` of them)."""
    if isinstance(limit, int):
        return limit
    text = limit.strip()
    if not text.endswith("%"):
        raise UsageError(f"--max-rejected: expected rows (50) or a share such as 1%, got {limit!r}")
    try:
        share = float(text[:-1])
    except ValueError:
        raise UsageError(
            f"--max-rejected: expected rows (50) or a share such as 1%, got {limit!r}"
        ) from None
    return math.floor(total * share / 100)


def parse_limit(text: str | None) -> int | str | None:
    """`--max-rejected` as given: rows (`50`) or a share (`1%`); None when not given."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    allowed_rows(stripped, 0)  # checks the form
    return stripped


def describe(found: SetAside, listed: bool = True) -> str:
    """The one line for a source that set rows aside (`listed`: `report --rejects` lists
    them, as it does a funnel source's)."""
    share = found.rows / found.total if found.total else 1.0
    percent = f"{share:.0%}" if share >= 0.01 or share == 0 else f"{share:.2%}"
    line = f"{found.file}: {found.rows:,} of {found.total:,} rows ({percent}) set aside"
    first = found.first
    if first is not None:
        said = _SAID.get(first.reason, f"({first.reason})")
        line += f": {first.column} {first.value!r} at line {first.line} {said}"
    return line + (" (funnel report --rejects FILE lists them)" if listed else "")


def check_set_aside(
    engine: Engine,
    limit: int | str | None,
    notice: Callable[[str], None] | None,
    sources: set[str] | None = None,
    listed: set[str] | None = None,
) -> None:
    """Say each source's set-aside rows through `notice`; a DataError (exit 1) with the line
    when a source sets aside more than `limit` allows (None: never). `sources`: only these
    (else all); `listed`: the sources `report --rejects` lists (else all)."""
    for found in engine.set_aside():
        if sources is not None and found.source not in sources:
            continue
        line = describe(found, listed is None or found.source in listed)
        allowed = allowed_rows(limit, found.total) if limit is not None else found.rows
        if found.rows > allowed:
            shown = f"{limit} of its rows" if isinstance(limit, str) else f"{limit:,} rows"
            raise DataError(
                f"{line}; more than max_rejected ({shown}): fix the column or its format:, "
                "or raise --max-rejected"
            )
        if notice is not None:
            notice(line)


def enforce(
    engine: Engine,
    funnel: Funnel,
    options: RunOptions | None,
    *,
    extra: bool = False,
    yaml_limit: bool = True,
) -> None:
    """check_set_aside for a command's funnel sources (with `extra`, its other sources too:
    risk's usage and touches), with the option's limit, else the YAML's. Without `yaml_limit`
    (`funnel trace`, which lists the traced key's rejected rows itself) only --max-rejected
    stops the run; the line is said all the same."""
    limit = options.max_rejected if options is not None else None
    notice = options.notice if options is not None else None
    if limit is None and yaml_limit:
        limit = funnel.spec.max_rejected
    funnel_sources = set(funnel.spec.sources)
    check_set_aside(engine, limit, notice, None if extra else funnel_sources, funnel_sources)
