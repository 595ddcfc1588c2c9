"""Money parsing (docs/money.md): every rule and every unparseable case, SQL and Python alike."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import funnelcli
from funnelcli.errors import DataError
from funnelcli.spec import parse_funnel
from funnelcli.sql.amounts import UnparseableAmount, amount, parse_amount_text, unparseable

PARSED = [
    # plain and decimal point
    ("12000", "12000"),
    ("12.5", "12.5"),
    ("12.500", "12.5"),  # one dot is always a decimal point
    # thousands commas, decimal comma
    ("12,000", "12000"),
    ("1,234,567.50", "1234567.50"),
    ("12,000.50", "12000.50"),
    ("12,5", "12.5"),
    ("1234,567", "1234.567"),  # not groups of three after 1-3 digits: a decimal comma
    # dot thousands, space and apostrophe thousands
    ("1.234.567", "1234567"),
    ("1.234,56", "1234.56"),
    ("12 000,50", "12000.50"),
    ("12\u00a0000,50", "12000.50"),  # no-break space
    ("1'234.50", "1234.50"),
    # currencies, leading or trailing, symbols or codes
    ("¥12,000", "12000"),
    ("￥12,000", "12000"),
    ("$3.5k", "3500"),
    ("USD 1,234.5", "1234.5"),
    ("1,234.5 usd", "1234.5"),
    ("12000元", "12000"),
    ("RMB 800", "800"),
    ("€ 99,90", "99.90"),
    ("HK$1,000", "1000"),
    # multipliers
    ("3.5K", "3500"),
    ("2m", "2000000"),
    ("1.2万", "12000"),
    ("1.2万元", "12000"),
    ("¥1.2万", "12000"),
    ("3亿", "300000000"),
    ("5千", "5000"),
    # negatives
    ("(1,200)", "-1200"),
    ("-¥100", "-100"),
    ("¥-100", "-100"),
    ("−42", "-42"),  # U+2212 minus sign
    ("(¥1.2万)", "-12000"),
    # rounding to 6 decimals, half away from zero
    ("1.2345675", "1.234568"),
    ("0.0000004", "0"),
    ("  7  ", "7"),
]
EMPTY = [None, "", "   ", "\u3000"]
UNPARSEABLE = [
    "abc",
    "n/a",
    "NaN",
    "1e5",  # no scientific notation
    "12,00,000",  # lakh grouping is not one of the rules
    "1.234.5",  # dots that are not groups of three
    "1,234.567,8",  # mixed marks
    ".5",  # a number starts with a digit
    "(12",  # unbalanced parenthesis
    "--5",  # two signs
    "-(5)",  # sign and parentheses
    "¥12 USD",  # two currencies
    "12 k k",
    "1 2",  # a space that is not a thousands separator
    "３",  # full-width digit
    "123456789012345678901",  # more than 20 integer digits
    "12万亿",
]


def _sql_many(
    texts: list[str | None], currency: str | None = None
) -> list[tuple[Decimal | None, bool]]:
    """Every text through the SQL expressions, in one DuckDB query."""
    rows = [
        exp.Tuple(
            expressions=[
                exp.Literal.number(i),
                exp.Literal.string(t) if t is not None else exp.cast(exp.null(), "VARCHAR"),
            ]
        )
        for i, t in enumerate(texts)
    ]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier("v"), columns=[exp.to_identifier("i"), exp.to_identifier("t")]
        ),
    )
    text = exp.column("t")
    sql = (
        exp.select(amount(text, currency=currency), unparseable(text, currency=currency))
        .from_(values)
        .order_by(exp.column("i"))
        .sql(dialect="duckdb")
    )
    return [(row[0], bool(row[1])) for row in duckdb.connect().execute(sql).fetchall()]


_ALL: list[str | None] = [t for t, _ in PARSED] + EMPTY + UNPARSEABLE
_CACHE: dict[str | None, tuple[Decimal | None, bool]] = {}


def _sql(text: str | None) -> tuple[Decimal | None, bool]:
    if not _CACHE:
        _CACHE.update(zip(_ALL, _sql_many(_ALL), strict=True))
    return _CACHE[text]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parsed(text: str, expected: str) -> None:
    assert parse_amount_text(text) == Decimal(expected)
    value, bad = _sql(text)
    assert value == Decimal(expected)
    assert not bad


@pytest.mark.parametrize("text", EMPTY)
def test_empty_is_null_not_zero_and_not_unparseable(text: str | None) -> None:
    assert parse_amount_text(text) is None
    assert _sql(text) == (None, False)


@pytest.mark.parametrize("text", UNPARSEABLE)
def test_unparseable(text: str) -> None:
    with pytest.raises(UnparseableAmount):
        parse_amount_text(text)
    assert _sql(text) == (None, True)


_PIECES = st.sampled_from(
    ["", "1", "12", "123", "0", ",", ".", " ", "'", "k", "万", "¥", "$", "USD", "(", ")", "-", "元"]
)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=7).map("".join), min_size=1, max_size=40))
def test_sql_agrees_with_python(texts: list[str]) -> None:
    expected: list[tuple[Decimal | None, bool]] = []
    for text in texts:
        try:
            expected.append((parse_amount_text(text), False))
        except UnparseableAmount:
            expected.append((None, True))
    assert _sql_many(list(texts)) == expected


FOREIGN = [
    ("USD", ["$100", "100 usd", "US$100", "-$5"], ["¥100", "€100", "100 GBP", "HK$100", "100元"]),
    ("CNY", ["¥100", "￥100", "100元", "RMB 100", "1.2万元"], ["$100", "€100", "100 USD", "£1"]),
    ("EUR", ["€100", "100 EUR", "1.234,50 €"], ["$100", "¥100", "100 GBP"]),
]


@pytest.mark.parametrize(("currency", "own", "foreign"), FOREIGN)
def test_under_a_currency_only_its_own_marks_are_read(
    currency: str, own: list[str], foreign: list[str]
) -> None:
    """`currency: USD` never sums €100 as 100 dollars: another currency's mark is
    unparseable (counted, located by validate), in SQL and in the Python twin alike."""
    sql = _sql_many([*own, *foreign], currency)
    assert [bad for _, bad in sql] == [False] * len(own) + [True] * len(foreign)
    for text, (value, _) in zip(own, sql, strict=False):
        assert parse_amount_text(text, currency) == value == parse_amount_text(text)
    for text in foreign:
        with pytest.raises(UnparseableAmount):
            parse_amount_text(text, currency)
        assert parse_amount_text(text) is not None  # without currency: any mark, as before


LEADS = """\
lead_id,created_at,channel,paid_at,deal
1,2025-01-01,a,2025-01-05,"¥12,000"
2,2025-01-02,a,2025-01-06,1.2万
3,2025-01-03,b,2025-01-07,n/a
4,2025-01-04,b,2025-01-08,
5,2025-01-05,b,2025-01-09,"(1,000)"
6,2025-01-06,b,2025-01-10,3k元
"""
YAML = """\
currency: CNY
sources:
  leads: {path: leads.csv, id: lead_id}
stages:
  - {name: lead, at: created_at}
  - {name: paid, at: paid_at, value: deal}
"""


def test_report_values_and_unparseable_count(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    funnel = parse_funnel(YAML, file=str(tmp_path / "f.yaml"), base_dir=tmp_path)
    report = funnelcli.report(funnel, by="channel", min_n=0)
    paid = report.overall.stages[1]
    # Values: 12000, 12000, (n/a left out), (empty), -1000, 3000.
    assert paid.value_sum == 26000.0
    assert paid.value_n == 4
    assert paid.value_avg == 6500.0
    assert paid.value_median == 7500.0  # (3000 + 12000) / 2
    assert report.overall.stages[0].value_n is None
    assert report.funnel.currency == "CNY"
    assert report.data_quality.unparseable_amounts == {"leads.deal": 1}
    assert any(
        "1 unparseable amount in leads.deal" in n for n in report.to_dict()["data_quality"]["notes"]
    )
    groups = {g.key["channel"]: g.stages[1] for g in report.breakdowns[0].groups}
    assert (groups["a"].value_sum, groups["a"].value_avg, groups["a"].value_median) == (
        24000.0,
        12000.0,
        12000.0,
    )
    assert (groups["b"].value_sum, groups["b"].value_n, groups["b"].value_median) == (
        2000.0,
        2,
        1000.0,
    )
    with pytest.raises(DataError) as err:
        funnelcli.validate(funnel)
    assert err.value.line == 4
    assert err.value.column == "deal"
    assert str(err.value).endswith(
        "leads.csv:line 4: column 'deal': cannot read 'n/a' as an amount in CNY "
        "(rules: docs/money.md)"
    )


def test_numeric_columns_are_not_reparsed(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        textwrap.dedent("""\
            lead_id,created_at,paid_at,deal
            1,2025-01-01,2025-01-05,100.5
            2,2025-01-02,2025-01-06,200
            """),
        encoding="utf-8",
    )
    funnel = parse_funnel(YAML, file=str(tmp_path / "f.yaml"), base_dir=tmp_path)
    report = funnelcli.report(funnel, min_n=0)
    assert report.overall.stages[1].value_sum == 300.5
    assert report.data_quality.unparseable_amounts == {"leads.deal": 0}
