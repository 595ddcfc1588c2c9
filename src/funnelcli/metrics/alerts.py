"""`--fail-on` alert expressions: a tiny grammar, parsed once and checked against a summary.

    alert  := STAGE "." METRIC ( OP NUMBER | ("drops" | "rises") NUMBER "%" )
    OP     := "<" | "<=" | ">" | ">=" | "==" | "!="

`paid.conversion_from_previous < 0.15` compares the current period's value with a number;
`qualified.count drops 20%` compares it with the previous period: met when
(current − previous) / previous ≤ −0.20 (`rises`: ≥ +0.20). A null value never meets an alert.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from funnelcli.errors import UsageError
from funnelcli.metrics.comparison import METRICS
from funnelcli.spec import did_you_mean
from funnelcli.spec.hints import closest, find

# the comparison operators of --fail-on conditions (summary's alerts and risk's)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_TOKEN = re.compile(
    r"\s*(?:(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[A-Za-z_]\w*)|(?P<op><=|>=|==|!=|<|>)|(?P<punct>[.%]))"
)


@dataclass(frozen=True)
class Alert:
    """One parsed `--fail-on` expression."""

    text: str
    stage: str
    metric: str
    operator: str  # one of OPERATORS, or "drops" / "rises"
    threshold: float  # the number; for drops/rises a fraction (20% → 0.2)

    def is_met(self, current: float | None, previous: float | None) -> bool:
        """Whether the alert fires for the current (and previous) period's value."""
        if current is None:
            return False
        if self.operator in ("drops", "rises"):
            if previous is None or previous == 0:
                return False
            change = (current - previous) / previous
            if self.operator == "drops":
                return change <= -self.threshold
            return change >= self.threshold
        return OPERATORS[self.operator](current, self.threshold)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int  # 1-based, for error messages


def _tokens(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            column = position + len(text[position:]) - len(text[position:].lstrip()) + 1
            raise _error(text, column, f"unexpected {text[column - 1]!r}")
        tokens.append(
            _Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup) + 1)
        )
        position = match.end()
    return tokens


def _error(text: str, column: int, message: str) -> UsageError:
    return UsageError(
        f"--fail-on {text!r}: column {column}: {message}; expected e.g. "
        "'paid.conversion_from_previous < 0.15' or 'qualified.count drops 20%'"
    )


def parse_alert(text: str, stages: Sequence[str]) -> Alert:
    """Parse one expression; a UsageError names the column of the first bad part."""
    tokens = _tokens(text)
    end = len(text.rstrip()) + 1

    def take(index: int, kind: str, what: str) -> _Token:
        if index >= len(tokens):
            raise _error(text, end, f"expected {what} at the end")
        token = tokens[index]
        if token.kind != kind:
            raise _error(text, token.column, f"expected {what}, got {token.text!r}")
        return token

    stage = take(0, "word", "a stage name")
    stage_name = find(stage.text, stages)  # the YAML's rule: case, width and spaces aside
    if stage_name is None:
        guess = closest(stage.text, stages)
        raise _error(
            text,
            stage.column,
            f"unknown stage {stage.text!r}{did_you_mean(stage.text, list(stages), guess=guess)}",
        )
    dot = take(1, "punct", "'.' after the stage name")
    if dot.text != ".":
        raise _error(text, dot.column, f"expected '.', got {dot.text!r}")
    metric = take(2, "word", "a metric name")
    metric_name = find(metric.text, METRICS)
    if metric_name is None:
        raise _error(
            text,
            metric.column,
            f"unknown metric {metric.text!r}{did_you_mean(metric.text, list(METRICS))}",
        )
    if len(tokens) <= 3:
        raise _error(text, end, "expected an operator (< <= > >= == !=) or drops/rises")
    verb = tokens[3]
    if verb.kind == "op":
        number = take(4, "number", "a number")
        rest = 5
        op, threshold = verb.text, float(number.text)
    elif verb.kind == "word" and verb.text in ("drops", "rises"):
        number = take(4, "number", "a percentage like 20%")
        percent = take(5, "punct", "'%' after the number")
        if percent.text != "%":
            raise _error(text, percent.column, f"expected '%', got {percent.text!r}")
        if float(number.text) < 0:
            raise _error(text, number.column, "the percentage must not be negative")
        rest = 6
        op, threshold = verb.text, float(number.text) / 100
    else:
        raise _error(
            text,
            verb.column,
            f"expected an operator (< <= > >= == !=) or drops/rises, got {verb.text!r}",
        )
    if len(tokens) > rest:
        raise _error(text, tokens[rest].column, f"unexpected {tokens[rest].text!r} after the alert")
    return Alert(
        text=text.strip(), stage=stage_name, metric=metric_name, operator=op, threshold=threshold
    )
