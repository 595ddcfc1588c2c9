"""`funnel init`: on each bundled export and on the Olist and Maven data, the YAML it writes
reports the hand-written funnels' numbers, once the choices it leaves to a human (window,
within, order, tz: the comments say so) are set as those funnels set them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from funnelcli.cli import app
from funnelcli.commands.init import InitRequest, init_funnel
from funnelcli.commands.init.profile import precedence_order
from funnelcli.commands.init.vocabulary import outcome, time_rank
from funnelcli.commands.report import build_report
from funnelcli.errors import DataError, UsageError
from funnelcli.spec import load_funnel, parse_funnel
from realdata import require

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def numbers(funnel: Any) -> list[dict[str, Any]]:
    """Every number of the overall funnel, stage by stage (names and labels aside)."""
    report = build_report(funnel)
    found = []
    for stage in report.overall.stages:
        row = asdict(stage)
        del row["name"], row["label"]
        found.append(row)
    return found


def inferred(tmp_path: Path, exports: list[Path], choices: dict[str, Any]) -> Any:
    """init's YAML with the human choices applied (top-level keys; `stages[i]` items merged
    into stage i; `source.<key>` into the first source)."""
    output = tmp_path / "funnel.yaml"
    result = init_funnel(InitRequest(exports=tuple(exports), output=output))
    assert output.read_text(encoding="utf-8") == result.text
    data = yaml.safe_load(result.text)
    for key, value in choices.items():
        if key.startswith("stages["):
            data["stages"][int(key[7:-1])].update(value)
        elif key.startswith("source."):
            next(iter(data["sources"].values()))[key[7:]] = value
        else:
            data[key] = value
    return parse_funnel(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), base_dir=tmp_path
    )


def test_default_from_leads_csv(tmp_path: Path) -> None:
    funnel = inferred(
        tmp_path, [SAMPLE / "leads.csv"], {"window": "18mo", "stages[2]": {"within": "60d"}}
    )
    spec = funnel.spec
    assert [s.name for s in spec.stages] == ["lead", "qualified", "trial", "paid", "renewed"]
    assert [s.value for s in spec.stages] == [None, None, None, "deal_amount", "renewal_amount"]
    assert spec.sources["leads"].account == "account_id"
    assert spec.dimensions == ["channel", "segment", "owner", "country"]
    assert numbers(funnel) == numbers(load_funnel(ROOT / "funnels" / "default.yaml"))


def test_history_from_the_stage_log(tmp_path: Path) -> None:
    choices = {"window": "18mo", "order": "strict", "stages[2]": {"within": "60d"}}
    funnel = inferred(tmp_path, [SAMPLE / "stage_history.csv"], choices)
    spec = funnel.spec
    assert [s.match for s in spec.stages] == [
        ["New"],
        ["MQL"],
        ["Trial"],
        ["Closed Won"],
        ["Renewed"],
    ]
    assert spec.lost is not None and spec.lost.match == ["Closed Lost"]
    assert numbers(funnel) == numbers(load_funnel(ROOT / "funnels" / "history.yaml"))


def test_chinese_stage_log(tmp_path: Path) -> None:
    choices = {"window": "18mo", "source.tz": "Asia/Shanghai"}
    funnel = inferred(tmp_path, [SAMPLE / "stage_changes_cn.csv"], choices)
    assert [s.name for s in funnel.spec.stages] == ["线索", "商机", "试用", "赢单", "续费"]
    assert funnel.spec.lost is not None and funnel.spec.lost.match == ["输单"]
    assert numbers(funnel) == numbers(load_funnel(ROOT / "funnels" / "chinese.yaml"))


@pytest.mark.slow
def test_olist_from_two_files(tmp_path: Path) -> None:
    folder = require("olist_marketing_funnel")
    exports = [
        folder / "olist_marketing_qualified_leads_dataset.csv",
        folder / "olist_closed_deals_dataset.csv",
    ]
    funnel = inferred(tmp_path, exports, {})
    assert funnel.spec.stages[1].source == "deals"
    expected = load_funnel(ROOT / "funnels" / "olist.yaml")
    assert numbers(funnel) == numbers(_at(expected, folder))


@pytest.mark.slow
def test_maven_snapshot(tmp_path: Path) -> None:
    folder = require("maven_crm_pipeline")
    exports = [folder / "sales_pipeline.csv", folder / "sales_teams.csv", folder / "products.csv"]
    funnel = inferred(tmp_path, exports, {})
    teams, products = funnel.spec.sources["teams"], funnel.spec.sources["products"]
    assert (teams.shape, teams.key, teams.join) == ("lookup", "sales_agent", "sales_agent")
    assert (products.shape, products.key, products.join) == ("lookup", "product", "product")
    assert {"sales_agent", "product", "manager", "regional_office"} <= set(funnel.spec.dimensions)
    stages = funnel.spec.stages
    assert [(s.match, s.at) for s in stages] == [
        (["Prospecting"], None),
        (None, "engage_date"),
        (["Won"], "close_date"),
    ]
    assert stages[2].value == "close_value" and funnel.spec.lost.match == ["Lost"]
    expected = load_funnel(ROOT / "funnels" / "maven.yaml")
    assert numbers(funnel) == numbers(_at(expected, folder))


def _at(funnel: Any, folder: Path) -> Any:
    """A funnels/*.yaml on real data: its relative paths resolved in `folder` (as --data)."""
    from dataclasses import replace

    return replace(funnel, base_dir=folder)


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    output = tmp_path / "funnel.yaml"
    output.write_text("mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match="exists; pass --force"):
        init_funnel(InitRequest(exports=(SAMPLE / "leads.csv",), output=output))
    assert output.read_text(encoding="utf-8") == "mine\n"
    init_funnel(InitRequest(exports=(SAMPLE / "leads.csv",), output=output, force=True))
    assert load_funnel(output).spec.stages[0].at == "created_at"


def test_interactive_drops_what_is_declined(tmp_path: Path) -> None:
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return "renewed" not in question and "dimension country" not in question

    output = tmp_path / "funnel.yaml"
    init_funnel(InitRequest(exports=(SAMPLE / "leads.csv",), output=output), confirm)
    spec = load_funnel(output).spec
    assert [s.name for s in spec.stages] == ["lead", "qualified", "trial", "paid"]
    assert "country" not in spec.dimensions and any("account" in q for q in asked)


def test_cli_writes_and_prints_the_report_command(tmp_path: Path) -> None:
    output = tmp_path / "f.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["init", str(SAMPLE / "leads.csv"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert f"funnel report {output}" in result.stdout
    again = runner.invoke(app, ["init", str(SAMPLE / "leads.csv"), "-o", str(output)])
    assert again.exit_code == 2 and "--force" in again.stderr
    missing = runner.invoke(
        app, ["init", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "g.yaml")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_vocabulary() -> None:
    assert time_rank("Became a Marketing Qualified Lead Date") == time_rank("qualified_at")
    assert time_rank("Deal - Won time") == time_rank("赢单时间") == time_rank("Close Date")
    assert time_rank("Create Date") == time_rank("创建时间")
    assert outcome("Closed Won") == "won" and outcome("输单") == "lost" and outcome("Trial") is None
    before = {("a", "b"): 5, ("b", "a"): 1, ("b", "c"): 4, ("a", "c"): 3}
    assert precedence_order(["c", "b", "a"], before) == ["a", "b", "c"]


WIDE_EXPORTS = {
    # HubSpot contacts: stage dates by name, in lifecycle order whatever the column order
    "hubspot.csv": (
        "Record ID,Create Date,Became a Customer Date,Became a Marketing Qualified Lead Date,"
        "Became a Sales Qualified Lead Date,Became an Opportunity Date,Original Source,"
        "Contact owner\n",
        ["lead", "qualified", "sql", "opportunity", "paid"],
    ),
    # Pipedrive deals: the lost time goes to lost:
    "pipedrive.csv": (
        "Deal - ID,Deal - Add time,Deal - Won time,Deal - Lost time,Deal - Value,Deal - Owner\n",
        ["lead", "paid"],
    ),
    # a Chinese wide export
    "cn.csv": (
        "客户编号,创建时间,线索时间,商机时间,试用时间,赢单时间,续约时间,渠道\n",
        ["lead", "lead_2", "opportunity", "trial", "paid", "renewed"],
    ),
}


@pytest.mark.parametrize("name", sorted(WIDE_EXPORTS))
def test_wide_export_headers(tmp_path: Path, name: str) -> None:
    header, stages = WIDE_EXPORTS[name]
    columns = header.strip().split(",")
    rows = []
    for i in range(40):  # every date filled, a day apart in header order; ids unique
        cells = []
        for j, column in enumerate(columns):
            if j == 0:
                cells.append(f"X{i}")
            elif "Date" in column or "time" in column or "时间" in column:
                cells.append(f"2025-01-{1 + (i % 9):02d} 0{j % 10}:00:00")
            elif "Value" in column:
                cells.append(str(100 + i))
            else:
                cells.append(f"v{i % 3}")
        rows.append(",".join(cells))
    export = tmp_path / name
    export.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    result = init_funnel(InitRequest(exports=(export,), output=tmp_path / "f.yaml"))
    funnel = load_funnel(tmp_path / "f.yaml")
    assert list(result.stages) == stages
    assert funnel.spec.stages[0].at == columns[1]
    if name == "pipedrive.csv":
        assert funnel.spec.lost is not None and funnel.spec.lost.at == "Deal - Lost time"
        assert funnel.spec.stages[1].value == "Deal - Value"


def test_salesforce_opportunities_snapshot(tmp_path: Path) -> None:
    header = "Opportunity ID,Account Name,Created Date,Close Date,Stage,Amount,Opportunity Owner\n"
    values = ["Negotiation", "Closed Won", "Prospecting", "Closed Lost", "Qualification"]
    rows = []
    for i in range(60):
        stage = values[i % 5]
        close = f"2025-03-{1 + i % 28:02d}" if stage.startswith("Closed") else ""
        rows.append(
            f"006{i:05d},Acme {i % 7},2025-01-{1 + i % 28:02d},{close},{stage},{1000 + i},o{i % 3}"
        )
    export = tmp_path / "opportunities.csv"
    export.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    init_funnel(InitRequest(exports=(export,), output=tmp_path / "f.yaml"))
    spec = load_funnel(tmp_path / "f.yaml").spec
    # the creation date is the entry; open values in their usual order; won last, dated
    assert [(s.at, s.match) for s in spec.stages] == [
        ("Created Date", None),
        (None, ["Prospecting"]),
        (None, ["Qualification"]),
        (None, ["Negotiation"]),
        ("Close Date", ["Closed Won"]),
    ]
    assert spec.stages[-1].value == "Amount" and spec.lost.match == ["Closed Lost"]
    assert spec.sources["opportunities"].account == "Account Name"


def test_ambiguous_dates_are_written_and_left_to_the_user(tmp_path: Path) -> None:
    export = tmp_path / "leads.csv"
    rows = [f"L{i},0{1 + i % 9}/0{1 + i % 7}/2024,0{1 + i % 9}/1{i % 3}/2024" for i in range(30)]
    export.write_text("lead_id,created_date,won_date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / "f.yaml"
    with pytest.raises(DataError, match="does not validate yet"):
        init_funnel(InitRequest(exports=(export,), output=output))
    assert "day_first:" in output.read_text(encoding="utf-8")


def test_interactive_id_choice(tmp_path: Path) -> None:
    def confirm(question: str) -> bool:
        return not question.startswith("id column")

    def choose(question: str, names: Sequence[str]) -> str:
        assert "account_id" in names
        return "account_id"

    output = tmp_path / "funnel.yaml"
    init_funnel(InitRequest(exports=(SAMPLE / "leads.csv",), output=output), confirm, choose)
    source = load_funnel(output).spec.sources["leads"]
    assert source.id == "account_id" and source.account != "account_id"
