"""Compiled trees never share a node: the builders take the nodes they are given (copy=False,
for speed), so a node used twice must be copied, or a rewrite of one place would change both."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlglot import exp

from funnelcli.compile import ReportQuery, compile_funnel, rewrites
from test_golden_sql import FUNNELS, _headers

AS_OF = datetime(2026, 1, 1)
PERIODS = ((datetime(2025, 5, 1), datetime(2025, 6, 1)),)


def shared_nodes(tree: exp.Expr) -> int:
    """How many nodes are reached twice, or have a parent other than the one above them."""
    seen: set[int] = set()
    bad = 0
    stack: list[tuple[exp.Expr, exp.Expr | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        if id(node) in seen or (parent is not None and node.parent is not parent):
            bad += 1
            continue
        seen.add(id(node))
        stack += [(child, node) for child in node.iter_expressions()]
    return bad


@pytest.mark.parametrize("funnel_path", FUNNELS, ids=[f.stem for f in FUNNELS])
def test_no_node_is_shared(funnel_path: Path) -> None:
    funnel, headers = _headers(funnel_path)
    breakdowns = tuple((name,) for name in funnel.spec.breakdown)
    for query in (
        ReportQuery(),
        ReportQuery(breakdowns=breakdowns, known_values=tuple(b[0] for b in breakdowns)),
        ReportQuery(as_of=AS_OF, periods=PERIODS, breakdowns=breakdowns),
    ):
        compiled = compile_funnel(funnel, headers, query)  # type: ignore[arg-type]
        candidates = rewrites.per_row_candidates(compiled)
        trees = [
            compiled.query,
            compiled.anchor_query,
            compiled.anchors(),
            rewrites.read_per_row(compiled, candidates).query,
            rewrites.check_keys(compiled, candidates).query,
            rewrites.anchor_at(compiled, AS_OF).query,
        ]
        assert [shared_nodes(tree) for tree in trees] == [0] * len(trees)
