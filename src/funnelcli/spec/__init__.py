"""The funnel definition: YAML → frozen pydantic models, errors that point at file:line: key.

- `models`: the frozen pydantic models; a source is a union discriminated on `shape:`.
- `loader`: YAML text → a `Funnel` (the spec, its file and key-path line map), one SpecError.
- `checks`: the cross-key rules that run after the models.
- `enums`, `duration`, `hints`: the closed choices, `30d`-style durations, did-you-mean.

The enums and hints are light and imported here; the rest is imported on first use (PEP 562),
so that start-up code can import `funnelcli.spec.enums` without pydantic or yaml.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from funnelcli.spec.enums import Attempts, Attribution, Evidence, Grain, Order, Shape, WeekStart
from funnelcli.spec.hints import did_you_mean

if TYPE_CHECKING:
    from funnelcli.spec.checks import check_references
    from funnelcli.spec.exclude import OutcomeSpec
    from funnelcli.spec.loader import Funnel, key_path, load_funnel, parse_funnel
    from funnelcli.spec.models import (
        Encoding,
        FunnelSpec,
        LongSource,
        LookupSource,
        RoiSpec,
        SnapshotSource,
        SourceSpec,
        SpendSpec,
        StageSpec,
        SubscriptionsSpec,
        WideSource,
    )
    from funnelcli.spec.risk import RiskSpec, UsageSpec

__all__ = [
    "Attempts",
    "Attribution",
    "Encoding",
    "Evidence",
    "Funnel",
    "FunnelSpec",
    "Grain",
    "LongSource",
    "LookupSource",
    "Order",
    "OutcomeSpec",
    "RiskSpec",
    "RoiSpec",
    "Shape",
    "SnapshotSource",
    "SourceSpec",
    "SpendSpec",
    "StageSpec",
    "SubscriptionsSpec",
    "UsageSpec",
    "WeekStart",
    "WideSource",
    "check_references",
    "did_you_mean",
    "key_path",
    "load_funnel",
    "parse_funnel",
]

# The module each name above that is not imported yet comes from, on first use.
_LAZY = {
    "checks": ("check_references",),
    "loader": ("Funnel", "key_path", "load_funnel", "parse_funnel"),
    "models": (  # OutcomeSpec: defined in spec/exclude.py, which models.py imports
        "Encoding",
        "FunnelSpec",
        "LongSource",
        "LookupSource",
        "OutcomeSpec",
        "RoiSpec",
        "SnapshotSource",
        "SourceSpec",
        "SpendSpec",
        "StageSpec",
        "SubscriptionsSpec",
        "WideSource",
    ),
    "risk": ("RiskSpec", "UsageSpec"),
}


def __getattr__(name: str) -> Any:
    module = next((m for m, names in _LAZY.items() if name in names), None)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"funnelcli.spec.{module}"), name)
    globals()[name] = value
    return value
