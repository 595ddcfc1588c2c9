"""`--format json`: the report as one funnelcli.report/1 document, and the schema it follows."""

# Named json_out (like csv_out), not json: a submodule `render.json` would become the package
# attribute `json`, silently replacing any `import json` in render/__init__.py.

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from funnelcli.outputs.report import FunnelReport

SCHEMA_RESOURCE = "outputs/schemas/report-1.schema.json"


def report_json(report: FunnelReport) -> str:
    """The report as indented JSON (UTF-8 text, keys in model order), ending with a newline."""
    document = report.to_dict()
    return (
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False) + "\n"
    )


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of funnelcli.report/1, as shipped in the package."""
    text = resources.files("funnelcli").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
