"""`exclude:` items (docs/semantics.md, Exclusions): evidence written like a stage's that,
between two stages' times, stops an id counting (from the later stage on, or in the whole
funnel), and `lost:` (OutcomeSpec), the other evidence written like a stage's. The models;
spec/checks.py checks their names against the stages and sources."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from funnelcli.spec.enums import Scope
from funnelcli.spec.hints import find
from funnelcli.spec.models import MatchValues, _Model


def _two_names(value: Any) -> Any:
    """`between: qualified, paid` or `[qualified, paid]`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return value


class OutcomeSpec(_Model):
    """`lost:`: evidence that a deal was lost, written like a stage (docs/sales.md)."""

    source: str | None = None
    at: str | None = None
    match: MatchValues = None
    when: str | None = None


class ExcludeSpec(_Model):
    """One exclusion: its evidence (`match:` on a long or snapshot source's stage column,
    `at:` a time column, `when:` a condition), the two stages it lies between, its scope."""

    name: str | None = None  # how reports name it; default: its match values, at: or when:
    source: str | None = None
    at: str | None = None
    match: MatchValues = None
    when: str | None = None
    between: Annotated[list[str], BeforeValidator(_two_names)] = Field(min_length=2, max_length=2)
    scope: Scope = Scope.onward

    @field_validator("between")
    @classmethod
    def _text(cls, value: list[str]) -> list[str]:
        return [str(v) for v in value]

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.match:
            return ", ".join(self.match)
        return self.when or self.at or "exclude"

    def ends(self, stages: list[str]) -> tuple[str, str]:
        """The from- and to-stage's names as declared (`between:` matched tolerantly)."""
        first, second = (find(name, stages) or name for name in self.between)
        return first, second
