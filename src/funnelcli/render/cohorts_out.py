"""`funnel cohorts --format markdown|csv|json`: the cohort matrix for chat tools and sheets."""

from __future__ import annotations

import csv
import io
import json

from funnelcli.outputs.cohorts import CohortMatrix
from funnelcli.render.markdown import escape
from funnelcli.render.wording import IMMATURE_MARK, NULL_TEXT, format_count, format_percent


def cohorts_markdown(matrix: CohortMatrix) -> str:
    """A pipe table: one row per cohort, one column per stage after the first."""
    funnel = matrix.funnel
    stages = funnel.stages[1:]
    lines = [
        f"# {escape(f'Entry cohorts by {matrix.period} · {funnel.title or funnel.name}')}",
        "",
        escape(f"as of {matrix.as_of} UTC · periods in {matrix.timezone}"),
        "",
        "| Cohort | Entered | " + " | ".join(escape(s.label) for s in stages) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in stages) + " |",
    ]
    for row in matrix.rows:
        label = row.label + (" (partial)" if row.partial else "")
        cells = [escape(label), format_count(row.entered)]
        for cell in row.cells[1:]:
            rate = cell.conversion_from_entry
            text = f"{cell.count:,} ({format_percent(rate)})" if rate is not None else NULL_TEXT
            cells.append(escape(text + (IMMATURE_MARK if row.immature else "")))
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        escape(
            f"Cells: count (conversion from entry). {IMMATURE_MARK} immature: the cohort is "
            f"younger than the {funnel.window or 'window'} window and may still convert."
        ),
    ]
    return "\n".join(lines) + "\n"


def cohorts_csv(matrix: CohortMatrix) -> str:
    """Tidy CSV: one row per cohort and stage."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "cohort",
            "cohort_start",
            "cohort_end",
            "immature",
            "partial",
            "stage",
            "count",
            "conversion_from_entry",
        ]
    )
    for row in matrix.rows:
        for stage, cell in zip(matrix.funnel.stages, row.cells, strict=True):
            rate = cell.conversion_from_entry
            writer.writerow(
                [
                    row.label,
                    row.start,
                    row.end,
                    str(row.immature).lower(),
                    str(row.partial).lower(),
                    stage.name,
                    cell.count,
                    "" if rate is None else repr(rate),
                ]
            )
    return buffer.getvalue()


def cohorts_json(matrix: CohortMatrix) -> str:
    """The matrix as one indented funnelcli.cohorts/1 document."""
    return json.dumps(matrix.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
