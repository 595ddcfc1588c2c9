"""`--format html` for every artifact: self-contained pages whose SVG charts draw the numbers
the artifact holds, and (slow, with Chromium) no horizontal overflow at 700 and 1280 px.

The browser test renders a copy of each page with a small inline check added (the pages
themselves never carry a script): it writes the page's scrollWidth against the viewport and the
count of each kind of SVG mark into the DOM that `--dump-dom` prints. Screenshots go to
$FUNNELCLI_SCREENSHOTS, else a temporary folder; none is committed.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import funnelcli
from artifacts import roi as roi_artifact
from funnelcli.render import Format, render
from funnelcli.render.html import split_columns
from funnelcli.render.views import TableView
from funnelcli.spec import load_funnel

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("<script", "<link", "<img", "<iframe", "<object", "http://", "https://", "@import",
             "url(", "javascript:", " onload=", " onclick=", "<style")  # fmt: skip


@pytest.fixture(scope="module")
def artifacts() -> dict[str, Any]:
    """The bundled sample's report (by channel), its report with --histogram paid, summary,
    cohorts and roi."""
    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    return {
        "report": funnelcli.report(funnel, by=["channel"]),
        "histogram": funnelcli.report(funnel, histogram="paid"),
        "summary": funnelcli.summary(funnel, period="week"),
        "cohorts": funnelcli.cohorts(funnel, period="month"),
        "roi": funnelcli.roi(funnel),
    }


def kinds(html: str) -> dict[str, int]:
    """How many SVG marks of each data-kind the page draws."""
    found: dict[str, int] = {}
    for kind in re.findall(r'data-kind="(\w+)"', html):
        found[kind] = found.get(kind, 0) + 1
    return found


def expected(name: str, artifact: Any) -> dict[str, int]:
    """The marks each chart must draw, from the artifact's own numbers."""
    if name in ("report", "histogram"):
        stages = artifact.overall.stages
        found = {"bar": len(stages), "drop": sum(1 for s in stages if s.dropped)}
        bins = artifact.histogram.bins if artifact.histogram is not None else ()
        return found | {"bin": sum(1 for b in bins if b.count)}  # an empty bin draws no bar
    if name == "summary":
        counts = [int(s.metrics["count"].current or 0) for s in artifact.stages]
        drops = sum(1 for a, b in itertools.pairwise(counts) if a > b)
        return {"bar": len(counts), "drop": drops}
    if name == "cohorts":
        later = len(artifact.funnel.stages) - 1
        immature = any(row.immature for row in artifact.rows)
        return {"cell": len(artifact.rows) * later, "line": later, "band": later,
                "provisional": int(immature)}  # fmt: skip
    rows = [r for r in (*artifact.channels, artifact.blended) if r.roi is not None]
    return {"bar": len(rows)}


@pytest.mark.parametrize("name", ["report", "histogram", "summary", "cohorts", "roi"])
def test_page_is_self_contained_and_draws_the_numbers(artifacts: dict[str, Any], name: str) -> None:
    html = render(artifacts[name], Format.html)
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    for forbidden in FORBIDDEN:
        assert forbidden not in html, forbidden
    found = kinds(html)
    for kind, count in expected(name, artifacts[name]).items():
        assert found.get(kind, 0) == count, (kind, found)


def test_the_histogram_draws_a_bar_per_non_empty_bin(monkeypatch: pytest.MonkeyPatch) -> None:
    """`funnel report --histogram paid --format html`: one bar per non-empty bin of the JSON
    histogram, in the JSON's order, each bin's range and count written."""
    monkeypatch.chdir(ROOT)
    args = ["report", "funnels/default.yaml", "--histogram", "paid", "--format"]
    document = json.loads(_cli([*args, "json"]))["histogram"]
    html = _cli([*args, "html"])
    bins = document["bins"]
    assert len(bins) > sum(1 for b in bins if b["count"]) > 1  # empty bins too: both cases
    chart = re.search(r'<svg role="img" aria-label="Time from trial to paid[^"]*".*?</svg>', html)
    assert chart is not None
    bars = re.findall(r'<rect data-kind="bin" [^>]*width="([\d.]+)"', chart.group(0))
    assert len(bars) == sum(1 for b in bins if b["count"]) == kinds(html)["bin"]
    counts = [b["count"] for b in bins if b["count"]]
    widths = [float(w) for w in bars]
    assert widths.index(max(widths)) == counts.index(max(counts))  # the fullest bin is longest
    texts = re.findall(r">([^<]*)</text>", chart.group(0))
    per = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7}[document["unit"]]
    labels = [
        f"{round(b['start_days'] / per):,}–{round(b['end_days'] / per):,} {document['unit']}s"
        for b in bins
    ]
    assert texts[0::2] == labels  # each bin's range in the unit, e.g. "0–2 weeks"
    assert texts[1::2] == [f"{b['count']:,}" for b in bins]  # every count, 0 included


def _cli(args: list[str]) -> str:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    result = CliRunner().invoke(app, args, env={"NO_COLOR": "1"}, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_heat_map_writes_every_rate(artifacts: dict[str, Any]) -> None:
    matrix = artifacts["cohorts"]
    html = render(matrix, Format.html)
    april = next(row for row in matrix.rows if row.label == "2025-04")
    assert f">{april.cells[1].conversion_from_entry * 100:.1f}%</text>" in html
    assert f">{april.label}~</text>" in html  # immature cohorts are marked


def test_a_loss_is_distinguishable_without_colour() -> None:
    """A negative ROI is hollow, dashed, left of the zero line and labelled, not only red."""
    report = roi_artifact("ads")
    report = dataclasses.replace(
        report, channels=(dataclasses.replace(report.channels[0], roi=-0.35), report.channels[1])
    )
    html = render(report, Format.html)
    bars = re.findall(r'<rect data-kind="bar" x="([\d.]+)"[^>]*/>', html)
    loss = re.search(r'<rect data-kind="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*'
                     r'data-sign="loss"', html)  # fmt: skip
    gain = re.search(r'<rect data-kind="bar" x="([\d.]+)"[^>]*data-sign="gain"', html)
    assert len(bars) == 2 and loss and gain
    assert 'fill="#ffffff"' in loss.group(0) and "stroke-dasharray" in loss.group(0)
    assert float(loss.group(1)) + float(loss.group(2)) == pytest.approx(float(gain.group(1)))
    assert re.search(r">[-−]35% \(loss\)</text>", html)


def test_wide_tables_are_split_to_fit_an_email() -> None:
    header = ("Stage", *(f"Column {i}" for i in range(14)))
    rows = (("Lead", *("1,234,567.00",) * 14),)
    view = TableView("wide", header, rows, (None,))
    parts = split_columns(view)
    assert len(parts) > 1 and sorted(i for part in parts for i in part) == list(range(1, 15))
    html = "\n".join(__import__("funnelcli.render.html", fromlist=["table"]).table(view))
    assert html.count("<table") == len(parts) and html.count(">Lead</td>") == len(parts)


def test_without_css_the_tables_remain() -> None:
    """Mail clients that drop CSS keep table structure, alignment attributes and the text."""
    html = render(roi_artifact("ads"), Format.html)
    bare = re.sub(r' style="[^"]*"', "", html)
    assert '<th align="right">Spend</th>' in bare and '<td align="left">ads</td>' in bare


# in a real browser -----------------------------------------------------------------------------

CHECK = """<script>
var kinds = {};
document.querySelectorAll('svg [data-kind]').forEach(function (e) {
  var k = e.getAttribute('data-kind'); kinds[k] = (kinds[k] || 0) + 1; });
document.body.setAttribute('data-check', JSON.stringify({
  scroll: document.documentElement.scrollWidth, viewport: window.innerWidth, kinds: kinds}));
</script>
"""
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")  # fmt: skip


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Callable[[Path, int], dict[str, Any]]:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on PATH (CI installs Debian's chromium; apt-get install chromium)")
    shots = Path(os.environ.get("FUNNELCLI_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))
    shots.mkdir(parents=True, exist_ok=True)

    def load(page: Path, width: int) -> dict[str, Any]:
        probe = page.with_name(f"{page.stem}-check.html")
        html = page.read_text(encoding="utf-8")
        probe.write_text(html.replace("</body>", CHECK + "</body>"), encoding="utf-8")
        with tempfile.TemporaryDirectory() as profile:
            common = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},1200"]
            dom = subprocess.run([*common, "--dump-dom", probe.as_uri()], capture_output=True,
                                 text=True, timeout=120, check=True).stdout  # fmt: skip
        with tempfile.TemporaryDirectory() as profile:
            shot = shots / f"{page.stem}-{width}.png"
            subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}",
                            f"--window-size={width},1600", f"--screenshot={shot}", page.as_uri()],
                           capture_output=True, timeout=120, check=True)  # fmt: skip
        found = re.search(r"data-check=\"([^\"]*)\"", dom)
        assert found, dom[:500]
        check: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
        return check

    return load


@pytest.mark.slow
def test_the_overflow_check_can_fail(browser: Callable[[Path, int], dict[str, Any]],
                                     tmp_path: Path) -> None:  # fmt: skip
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html><body><div style="width:900px">x</div></body></html>')
    check = browser(page, 700)
    assert check["scroll"] > check["viewport"] == 700


@pytest.mark.slow
@pytest.mark.parametrize("width", [700, 1280])
@pytest.mark.parametrize("name", ["report", "histogram", "summary", "cohorts", "roi"])
def test_in_chromium_no_overflow_and_every_mark(
    browser: Callable[[Path, int], dict[str, Any]],
    artifacts: dict[str, Any],
    tmp_path: Path,
    name: str,
    width: int,
) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(render(artifacts[name], Format.html), encoding="utf-8")
    check = browser(page, width)
    assert check["viewport"] == width
    assert check["scroll"] <= check["viewport"], f"{name} overflows at {width} px: {check}"
    for kind, count in expected(name, artifacts[name]).items():
        assert check["kinds"].get(kind, 0) == count, (kind, check["kinds"])
