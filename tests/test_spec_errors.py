"""Error paths: every mistake in a funnel YAML or its data files is one FunnelError naming where.

Spec errors read `file:line: key.path: message`; data errors `file:row N: column 'c': message`.
"""

from __future__ import annotations

import multiprocessing
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import funnelcli
from funnelcli.errors import DataError, FunnelError, SpecError
from funnelcli.outputs.report import FunnelReport
from funnelcli.spec import Funnel, load_funnel, parse_funnel

LEADS_CSV = """\
lead_id,created_at,qualified_at,trial_started_at,paid_at,amount,channel,country,deal_stage
1,2024-01-01,2024-01-02,2024-01-03,2024-01-10,100,ads,CN,Won
2,2024-01-02,,,,,seo,US,Open
"""


def _text(content: str) -> str:
    return textwrap.dedent(content).lstrip("\n")


def parse(yaml_text: str, base_dir: Path | None = None) -> Funnel:
    return parse_funnel(_text(yaml_text), file="funnel.yaml", base_dir=base_dir)


def report(
    tmp_path: Path,
    yaml_text: str,
    files: dict[str, str | bytes] | None = None,
    *,
    by: tuple[tuple[str, ...], ...] = (),
) -> FunnelReport:
    """Write files (default: leads.csv) into tmp_path, parse the YAML there and run it."""
    for name, content in (files if files is not None else {"leads.csv": LEADS_CSV}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    funnel = parse(yaml_text, base_dir=tmp_path)
    return funnelcli.report(funnel, by=by, min_n=0)


def where(error: pytest.ExceptionInfo[FunnelError], line: int | None, key: str) -> None:
    """str(error) starts with `funnel.yaml:line: key:`."""
    prefix = f"funnel.yaml:{line}: " if line is not None else "funnel.yaml: "
    prefix += f"{key}: " if key else ""
    assert str(error.value).startswith(prefix), f"{str(error.value)!r} !~ {prefix!r}"


def in_child(call: Callable[[], object], seconds: float = 15) -> tuple[str, str]:
    """(error class, message) of `call()` run in a forked child; fails the test if it hangs.

    Used where the library has looped forever (a key path without a YAML line), so that a
    regression fails one test instead of hanging the suite.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target() -> None:
        try:
            call()
            sender.send(("ok", ""))
        except FunnelError as error:
            sender.send((type(error).__name__, str(error)))
        except Exception as error:
            sender.send((type(error).__name__, repr(error)))

    child = context.Process(target=target)
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"did not return within {seconds}s (infinite loop?)")
    return receiver.recv()


BASE = """\
sources:
  leads: {path: leads.csv, id: lead_id}
"""


# --- the YAML itself ----------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean() -> None:
    with pytest.raises(SpecError, match=r"unknown key 'witin' \(did you mean 'within'\?\)") as err:
        parse(
            BASE
            + """\
stages:
  - {name: lead, at: created_at}
  - name: trial
    at: trial_started_at
    witin: 7d
"""
        )
    where(err, 7, "stages[1].witin")
    assert err.value.line == 7
    assert err.value.key == "stages[1].witin"


def test_unknown_top_level_key() -> None:
    with pytest.raises(
        SpecError, match=r"unknown key 'windoww' \(did you mean 'window'\?\)"
    ) as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\nwindoww: 30d\n")
    where(err, 5, "windoww")


def test_unknown_key_in_a_source() -> None:
    with pytest.raises(
        SpecError, match=r"unknown key 'acount' \(did you mean 'account'\?\)"
    ) as err:
        parse(
            """\
sources:
  leads: {path: leads.csv, id: lead_id, acount: account_id}
stages:
  - {name: lead, at: created_at}
"""
        )
    where(err, 2, "sources.leads.acount")


def test_typo_in_a_required_key_names_the_typo() -> None:
    # `idd:` instead of `id:` is one mistake: the error should name the typo and suggest `id`,
    # not only say that `id` is missing.
    with pytest.raises(SpecError, match=r"unknown key 'idd' \(did you mean 'id'\?\)") as err:
        parse(
            """\
sources:
  leads: {path: leads.csv, idd: lead_id}
stages:
  - {name: lead, at: created_at}
"""
        )
    where(err, 2, "sources.leads.idd")


def test_unknown_key_without_a_close_match_lists_the_known_keys() -> None:
    with pytest.raises(SpecError, match=r"unknown key 'zzz' \(known keys: .*within") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at, zzz: 1}\n")
    where(err, 4, "stages[0].zzz")


def test_wrong_enum_value() -> None:
    choices = r"'backfill', 'strict', 'sequence' or 'any', got 'stricter'"
    with pytest.raises(SpecError, match=choices) as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\norder: stricter\n")
    where(err, 5, "order")


def test_wrong_grain_and_shape() -> None:
    with pytest.raises(SpecError, match=r"'lead' or 'account', got 'company'") as err:
        parse("grain: company\n" + BASE + "stages:\n  - {name: lead, at: created_at}\n")
    where(err, 1, "grain")
    with pytest.raises(SpecError, match=r"got 'tall'") as err:
        parse(
            """\
sources:
  history: {path: h.csv, shape: tall, id: opp_id, stage: stage, at: at}
stages:
  - {name: lead, match: Lead}
"""
        )
    where(err, 2, "sources.history.shape")


def test_bad_duration() -> None:
    with pytest.raises(SpecError, match=r"invalid duration '30 days'.*e\.g\. 36h, 30d") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\nwindow: 30 days\n")
    where(err, 5, "window")


def test_bad_within_duration() -> None:
    with pytest.raises(SpecError, match=r"invalid duration '7 dayz'") as err:
        parse(
            BASE
            + """\
stages:
  - {name: lead, at: created_at}
  - {name: paid, at: paid_at, within: 7 dayz}
"""
        )
    where(err, 5, "stages[1].within")


def test_a_number_is_not_a_duration() -> None:
    with pytest.raises(SpecError, match=r"expected a duration such as 30d, got 7") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\nwindow: 7\n")
    where(err, 5, "window")


def test_missing_sources() -> None:
    # Run in a child process: a missing top-level key must not hang the loader.
    kind, message = in_child(lambda: parse("stages:\n  - {name: lead, at: created_at}\n"))
    assert kind == "SpecError"
    assert re.match(r"^funnel\.yaml(:\d+)?: sources: required key is missing", message), message


def test_missing_stages() -> None:
    kind, message = in_child(lambda: parse(BASE))
    assert kind == "SpecError"
    assert re.match(r"^funnel\.yaml(:\d+)?: stages: required key is missing", message), message


def test_empty_stage_list() -> None:
    with pytest.raises(SpecError, match=r"at least 1 item") as err:
        parse(BASE + "stages: []\n")
    where(err, 3, "stages")


def test_missing_stage_name() -> None:
    with pytest.raises(SpecError, match=r"required key is missing") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\n  - {at: paid_at}\n")
    where(err, 5, "stages[1].name")


def test_stage_name_must_be_a_word() -> None:
    with pytest.raises(SpecError, match=r"stage name 'paid stage' must be letters") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid stage, at: x}\n")
    where(err, 5, "stages[1].name")


def test_duplicate_stage_names() -> None:
    with pytest.raises(SpecError, match=r"duplicate stage name 'paid'") as err:
        parse(
            BASE
            + """\
stages:
  - {name: lead, at: created_at}
  - {name: paid, at: paid_at}
  - {name: paid, at: renewed_at}
"""
        )
    where(err, 6, "stages[2].name")


def test_duplicate_yaml_key() -> None:
    with pytest.raises(SpecError, match=r"duplicate key 'order'") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\norder: strict\norder: backfill\n")
    where(err, 6, "order")


def test_duplicate_yaml_key_inside_a_stage() -> None:
    with pytest.raises(SpecError, match=r"duplicate key 'at'") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at, at: paid_at}\n")
    where(err, 4, "stages[0].at")


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(
        SpecError, match=r"YAML syntax error: mapping values are not allowed"
    ) as err:
        parse(
            BASE
            + """\
stages:
  - {name: lead, at: created_at}
  - name: paid
     at: paid_at
"""
        )
    assert str(err.value).startswith("funnel.yaml:6: YAML syntax error")
    assert err.value.line == 6


def test_yaml_syntax_error_unclosed_flow_mapping() -> None:
    with pytest.raises(SpecError, match=r"YAML syntax error") as err:
        parse("sources:\n  leads: {path: leads.csv, id: lead_id\nstages:\n  - {name: lead}\n")
    assert str(err.value).startswith("funnel.yaml:3: YAML syntax error")


@pytest.mark.parametrize(
    "text", ["", "\n", "# only a comment\n"], ids=["empty", "newline", "comment"]
)
def test_empty_file(text: str) -> None:
    with pytest.raises(SpecError, match=r"empty funnel definition") as err:
        parse_funnel(text, file="funnel.yaml")
    assert str(err.value).startswith("funnel.yaml: ")


def test_empty_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "funnel.yaml"
    path.write_bytes(b"")
    with pytest.raises(SpecError, match=r"empty funnel definition") as err:
        load_funnel(path)
    assert str(err.value).startswith(f"{path}: ")


def test_a_list_is_not_a_funnel() -> None:
    with pytest.raises(SpecError, match=r"a funnel definition is a mapping") as err:
        parse("- lead\n- paid\n")
    where(err, 1, "")


def test_funnel_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"funnel definition not found"):
        load_funnel(tmp_path / "nope.yaml")


def test_funnel_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"is a directory"):
        load_funnel(tmp_path)


def test_unknown_stage_source() -> None:
    with pytest.raises(
        SpecError, match=r"unknown source 'dealz' \(did you mean 'deals'\?\)"
    ) as err:
        parse(
            """\
sources:
  leads: {path: leads.csv, id: lead_id}
  deals: {path: deals.csv, id: lead_id}
stages:
  - {name: lead, at: created_at}
  - {name: won, source: dealz, at: won_at}
"""
        )
    where(err, 6, "stages[1].source")


def test_wide_stage_without_at_or_when() -> None:
    with pytest.raises(SpecError, match=r"needs at: \(a time column\) or when:") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, value: amount}\n")
    where(err, 5, "stages[1]")


def test_match_on_a_wide_source() -> None:
    with pytest.raises(SpecError, match=r"source 'leads' is wide") as err:
        parse(BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, match: Paid}\n")
    where(err, 5, "stages[1].match")


def test_long_source_without_stage_column() -> None:
    with pytest.raises(SpecError, match=r"a long source needs stage:") as err:
        parse(
            """\
sources:
  history:
    path: history.csv
    shape: long
    id: opp_id
    at: changed_at
stages:
  - {name: lead, match: Lead}
"""
        )
    where(err, 2, "sources.history")


def test_snapshot_source_without_stage_column() -> None:
    with pytest.raises(SpecError, match=r"a snapshot source needs stage:") as err:
        parse(
            """\
sources:
  deals: {path: deals.csv, shape: snapshot, id: deal_id}
stages:
  - {name: won, match: Won}
"""
        )
    where(err, 2, "sources.deals")


def test_long_stage_without_match_or_when() -> None:
    with pytest.raises(SpecError, match=r"needs match: \(its stage values\) or when:") as err:
        parse(
            """\
sources:
  history: {path: history.csv, shape: long, id: opp_id, stage: stage, at: changed_at}
stages:
  - {name: lead, match: Lead}
  - {name: paid, at: changed_at}
"""
        )
    where(err, 5, "stages[1]")


def test_account_grain_needs_an_account_column() -> None:
    with pytest.raises(SpecError, match=r"grain: account needs account:") as err:
        parse("grain: account\n" + BASE + "stages:\n  - {name: lead, at: created_at}\n")
    where(err, 3, "sources.leads")


# --- the YAML against the data's headers -------------------------------------------------------


def test_stage_column_not_in_the_csv(tmp_path: Path) -> None:
    yaml_text = (
        BASE
        + """\
stages:
  - {name: lead, at: created_at}
  - {name: qualified, at: qualified_at}
  - name: trial
    at: trial_at
"""
    )
    with pytest.raises(SpecError) as err:
        report(tmp_path, yaml_text)
    assert str(err.value) == (
        "funnel.yaml:7: stages[2].at: column 'trial_at' not found in leads.csv "
        "(did you mean 'trial_started_at'?)"
    )


def test_value_column_not_in_the_csv(tmp_path: Path) -> None:
    yaml_text = BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at,"
    yaml_text += " value: amout}\n"
    with pytest.raises(SpecError, match=r"column 'amout' not found in leads\.csv") as err:
        report(tmp_path, yaml_text)
    where(err, 5, "stages[1].value")
    assert "did you mean 'amount'?" in str(err.value)


def test_id_column_not_in_the_csv(tmp_path: Path) -> None:
    yaml_text = "sources:\n  leads: {path: leads.csv, id: leadid}\nstages:\n  - {name: lead, at: "
    yaml_text += "created_at}\n"
    with pytest.raises(
        SpecError, match=r"column 'leadid' not found.*did you mean 'lead_id'"
    ) as err:
        report(tmp_path, yaml_text)
    where(err, 2, "sources.leads.id")


def test_long_source_stage_column_not_in_the_csv(tmp_path: Path) -> None:
    yaml_text = """\
sources:
  history: {path: history.csv, shape: long, id: opp_id, stage: StageNam, at: CreatedDate}
stages:
  - {name: lead, match: Prospecting}
"""
    files = {"history.csv": "opp_id,StageName,CreatedDate\no1,Prospecting,2024-01-01\n"}
    with pytest.raises(SpecError, match=r"column 'StageNam' not found.*'StageName'") as err:
        report(tmp_path, yaml_text, files)
    where(err, 2, "sources.history.stage")


def test_unknown_by_column(tmp_path: Path) -> None:
    yaml_text = BASE + "stages:\n  - {name: lead, at: created_at}\n"
    kind, message = in_child(lambda: report(tmp_path, yaml_text, by=(("chanel",),)))
    assert kind == "SpecError"
    assert message == (
        "funnel.yaml: --by chanel: column 'chanel' not found in leads.csv (did you mean 'channel'?)"
    )


def test_unknown_when_column(tmp_path: Path) -> None:
    yaml_text = BASE + (
        "stages:\n  - {name: lead, at: created_at}\n"
        "  - {name: won, at: paid_at, when: \"deal_stag = 'Won'\"}\n"
    )
    with pytest.raises(SpecError, match=r"column 'deal_stag' not found.*'deal_stage'") as err:
        report(tmp_path, yaml_text)
    where(err, 5, "stages[1].when")


def test_unknown_filter_column(tmp_path: Path) -> None:
    yaml_text = BASE + "filter: \"countri = 'CN'\"\nstages:\n  - {name: lead, at: created_at}\n"
    with pytest.raises(
        SpecError, match=r"column 'countri' not found.*did you mean 'country'"
    ) as err:
        report(tmp_path, yaml_text)
    where(err, 3, "filter")


# --- conditions: allow-listed, never pasted as SQL -----------------------------------------------

WHEN_STAGES = (
    BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: won, at: paid_at, when: "
)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("\"read_csv('x') = 1\"", r"'READ_CSV\(\.\.\.\)' is not allowed in a condition"),
        ('"lower(deal_stage) = 1"', r"'LOWER\(\.\.\.\)' is not allowed"),
        ('"deal_stage IN (SELECT 1)"', r"IN takes a list of literal values, not a subquery"),
        ('"(SELECT 1) = 1"', r"is not allowed in a condition"),
        ('"EXISTS (SELECT 1)"', r"is not allowed in a condition"),
        (
            "\"deal_stage = 'Won'; COPY (SELECT 1) TO 'x.csv'\"",
            r"expected exactly one condition \(no ';'\)",
        ),
        ('"deal_stage"', r"must be a true/false condition"),
        ("\"leads.deal_stage = 'Won'\"", r"use a plain column name, without a table"),
        ("\"deal_stage IS 'Won'\"", r"IS is only allowed as IS NULL or IS NOT NULL"),
        ('"deal_stage = = 1"', r"not a valid condition"),
    ],
    ids=[
        "function",
        "lower",
        "in-subquery",
        "subquery",
        "exists",
        "semicolon-copy",
        "not-boolean",
        "table-qualified",
        "is-value",
        "syntax",
    ],
)
def test_when_rejects_anything_but_a_plain_condition(
    tmp_path: Path, condition: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as err:
        report(tmp_path, WHEN_STAGES + condition + "}\n")
    where(err, 5, "stages[1].when")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("\"read_csv('x') = 1\"", r"'READ_CSV\(\.\.\.\)' is not allowed in a condition"),
        ('"country IN (SELECT country FROM source_leads)"', r"not a subquery"),
        ("\"country = 'CN'; COPY (SELECT 1) TO 'x.csv'\"", r"expected exactly one condition"),
    ],
    ids=["function", "in-subquery", "semicolon-copy"],
)
def test_filter_rejects_anything_but_a_plain_condition(
    tmp_path: Path, condition: str, message: str
) -> None:
    yaml_text = BASE + f"filter: {condition}\nstages:\n  - {{name: lead, at: created_at}}\n"
    with pytest.raises(SpecError, match=message) as err:
        report(tmp_path, yaml_text)
    where(err, 3, "filter")
    assert not (tmp_path / "x.csv").exists()


INJECTION_CSV = """\
lead_id,created_at,"x""; DROP"
1,2024-01-01,2024-01-05
2,2024-01-02,
"""


def test_a_column_named_like_sql_is_a_plain_quoted_column(tmp_path: Path) -> None:
    yaml_text = (
        BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: 'x\"; DROP'}\n"
    )
    result = report(tmp_path, yaml_text, {"leads.csv": INJECTION_CSV})
    assert [s.count for s in result.overall.stages] == [2, 1]
    assert result.overall.stages[1].time_from_previous.median_days == 4.0


def test_a_column_named_like_sql_in_when_and_by(tmp_path: Path) -> None:
    yaml_text = BASE + (
        "stages:\n  - {name: lead, at: created_at}\n"
        '  - {name: paid, at: created_at, when: \'"x""; DROP" IS NOT NULL\'}\n'
    )
    result = report(tmp_path, yaml_text, {"leads.csv": INJECTION_CSV}, by=(('x"; DROP',),))
    assert [s.count for s in result.overall.stages] == [2, 1]
    groups = {g.key['x"; DROP']: g.entered for g in result.breakdowns[0].groups}
    assert groups == {"2024-01-05": 1, "(none)": 1}


def test_a_column_named_like_sql_that_does_not_exist(tmp_path: Path) -> None:
    yaml_text = (
        BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: 'y\"; DROP'}\n"
    )
    with pytest.raises(SpecError, match=r"""column 'y"; DROP' not found in leads\.csv""") as err:
        report(tmp_path, yaml_text, {"leads.csv": INJECTION_CSV})
    where(err, 5, "stages[1].at")


# --- data files ----------------------------------------------------------------------------------

ONE_STAGE = "stages:\n  - {name: lead, at: created_at}\n"


def test_missing_data_file(tmp_path: Path) -> None:
    yaml_text = "sources:\n  leads: {path: missing.csv, id: lead_id}\n" + ONE_STAGE
    with pytest.raises(SpecError, match=r"file not found: .*missing\.csv") as err:
        report(tmp_path, yaml_text, {})
    where(err, 2, "sources.leads.path")


def test_glob_matching_nothing(tmp_path: Path) -> None:
    yaml_text = "sources:\n  leads: {path: exports/leads_*.csv, id: lead_id}\n" + ONE_STAGE
    with pytest.raises(SpecError, match=r"no file matches 'exports/leads_\*\.csv'") as err:
        report(tmp_path, yaml_text, {"exports/other.csv": LEADS_CSV})
    where(err, 2, "sources.leads.path")


def test_directory_as_path(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    yaml_text = "sources:\n  leads: {path: exports, id: lead_id}\n" + ONE_STAGE
    with pytest.raises(SpecError, match=r"'exports' is a directory, not a file") as err:
        report(tmp_path, yaml_text, {})
    where(err, 2, "sources.leads.path")


def test_unsupported_file_type(tmp_path: Path) -> None:
    yaml_text = "sources:\n  leads: {path: leads.json, id: lead_id}\n" + ONE_STAGE
    with pytest.raises(SpecError, match=r"unsupported file type 'leads\.json'") as err:
        report(tmp_path, yaml_text, {"leads.json": "[]"})
    where(err, 2, "sources.leads.path")


def test_empty_csv_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"the file is empty") as err:
        report(tmp_path, BASE + ONE_STAGE, {"leads.csv": b""})
    assert str(err.value).startswith(str(tmp_path / "leads.csv"))
    assert err.value.file is not None and err.value.file.endswith("leads.csv")


def test_garbage_date_names_file_row_and_column(tmp_path: Path) -> None:
    csv = """\
lead_id,created_at,paid_at
1,2024-01-01,2024-01-05
2,2024-01-02,
3,2024-01-03,not a date
4,2024-01-04,2024-01-09
"""
    yaml_text = BASE + "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at}\n"
    yaml_text += "max_rejected: 1\n"  # 1 of 4 rows is more than the default 1%
    # A report sets the row aside (issue 6: rejects, not crashes) and counts it.
    result = report(tmp_path, yaml_text, {"leads.csv": csv})
    assert result.data_quality.rows_read == {"leads": 3}
    assert result.data_quality.rows_rejected == {"leads": 1}
    assert result.data_quality.rejects_by_reason == {"unparseable date": 1}
    funnel = parse_funnel(yaml_text, file=str(tmp_path / "funnel.yaml"), base_dir=tmp_path)
    with pytest.raises(DataError) as err:
        funnelcli.report(funnel, strict=True)
    # Line 4 of the file (the header is line 1).
    assert err.value.line == 4
    assert err.value.column == "paid_at"
    assert err.value.file is not None and err.value.file.endswith("leads.csv")
    assert "leads.csv:line 4: column 'paid_at': unparseable date: 'not a date'" in str(err.value)


def test_garbage_number_names_file_row_and_column(tmp_path: Path) -> None:
    csv = """\
lead_id,created_at,paid_at,amount
1,2024-01-01,2024-01-05,100
2,2024-01-02,2024-01-06,lots
"""
    yaml_text = BASE + (
        "stages:\n  - {name: lead, at: created_at}\n  - {name: paid, at: paid_at, value: amount}\n"
    )
    # The report leaves the amount out (never 0) and counts it; validate locates it.
    result = report(tmp_path, yaml_text, {"leads.csv": csv})
    assert result.data_quality.unparseable_amounts == {"leads.amount": 1}
    assert result.overall.stages[1].value_sum == 100.0
    with pytest.raises(DataError) as err:
        funnelcli.validate(parse(yaml_text, base_dir=tmp_path))
    assert str(err.value).endswith(
        "leads.csv:line 3: column 'amount': cannot read 'lots' as an amount (rules: docs/money.md)"
    )


def test_every_error_is_a_funnel_error() -> None:
    assert issubclass(SpecError, FunnelError)
    assert issubclass(DataError, FunnelError)


def test_fifty_stages_are_accepted_by_validate_and_report(tmp_path: Path) -> None:
    """The stated stage limit is 50 (spec/checks.MAX_STAGES; 51 is refused at stages[50], a
    corpus case): a funnel of exactly 50 stages validates and reports."""
    stages = "".join(f"  - {{name: s{i}, at: t}}\n" for i in range(50))
    (tmp_path / "l.csv").write_text("id,t\nA,2024-01-01\nB,2024-01-02\n")
    yaml_text = f"sources:\n  leads: {{path: l.csv, id: id}}\nstages:\n{stages}"
    funnelcli.validate(parse(yaml_text, base_dir=tmp_path))
    report = funnelcli.report(parse(yaml_text, base_dir=tmp_path))
    assert [s.count for s in report.overall.stages] == [2] * 50
    with pytest.raises(SpecError, match=r"stages\[50\]: 51 stages, more than the 50"):
        parse(yaml_text + "  - {name: s50, at: t}\n", base_dir=tmp_path)
