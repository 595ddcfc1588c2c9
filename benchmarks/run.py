"""Whole-process benchmark of `funnel` against a hand-written DuckDB query of the same funnel
and against what a user would write instead (pandas, polars, a minimal DuckDB query).

    python benchmarks/run.py --rows 10000000          # the issue's figure (needs ~2.5 GB disk)
    python benchmarks/run.py --rows 1000000 --runs 5  # quicker
    python benchmarks/run.py --suite peers            # only `funnel report` against the peers

It writes a seeded synthetic export with `funnel sample` into a data folder (reused when it is
already there), times each command as a separate process several times, the commands taking
turns run by run (so a busy machine slows each alike; median, min–max, peak RSS of the child
from wait4's rusage), prints the ratios to the floor (benchmarks/handwritten.py) and of
`funnel report` to each peer (benchmarks/peers.py: pandas and polars, the `bench` extra), and
writes benchmarks/RESULTS.md with the machine and its load described. The floor and `funnel
report` must agree on every stage count, and the peers with each other, or the run stops.
Tests never assert timings; this script is for people.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MIB = 1024 * 1024


@dataclass
class Timing:
    """One command's runs: wall seconds and peak RSS (bytes) per run."""

    name: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the child
    rss: list[int] = field(default_factory=list)
    target: str = ""
    floor: str | None = None  # name of the Timing this one is compared to
    forget: Path | None = None  # a folder emptied before every run (a cache to rebuild)
    prepare: list[str] | None = None  # a command run, untimed, before every run (after forget)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)

    @property
    def peak(self) -> int:
        return max(self.rss)


def funnel_command() -> list[str]:
    """`python -m funnelcli` with this interpreter: the code on its path, no PATH surprises."""
    return [sys.executable, "-m", "funnelcli"]


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, int, bytes, float]:
    """Run a command as a child; (wall seconds, peak RSS bytes, stdout, CPU seconds)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read() if process.stderr else b""
        if process.returncode != 0:
            raise SystemExit(
                f"failed ({process.returncode}): {' '.join(command)}\n{stderr.decode()}"
            )
        out.seek(0)
        text = out.read()
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return elapsed, rss, text, usage.ru_utime + usage.ru_stime


def measure(timings: list[Timing], runs: int, env: dict[str, str], warm_up: bool = True) -> None:
    """One warm-up run of each (file cache, imports compiled), then `runs` rounds in which
    every command runs once, in turn: load that comes and goes affects them all alike. Each
    run is printed as it ends."""
    if warm_up:
        for timing in timings:
            run_once(timing.command, env)
    for round_ in range(runs):
        for timing in timings:
            if timing.forget is not None:
                shutil.rmtree(timing.forget, ignore_errors=True)
            if timing.prepare is not None:
                run_once(timing.prepare, env)
            seconds, rss, _, cpu = run_once(timing.command, env)
            timing.seconds.append(seconds)
            timing.cpu.append(cpu)
            timing.rss.append(rss)
            print(
                f"    {timing.name:<34} {seconds:7.3f} s  CPU {cpu:7.3f} s  {rss / MIB:5.0f} MiB",
                flush=True,
            )
        print(f"  round {round_ + 1}/{runs} done, load {_load()}", flush=True)
    for timing in timings:
        print(
            f"  {timing.name:<34} median {timing.median:7.3f} s  min {timing.best:7.3f} s  "
            f"max {max(timing.seconds):7.3f} s  CPU {timing.best_cpu:7.3f} s  "
            f"peak {timing.peak / MIB:5.0f} MiB",
            flush=True,
        )


def _load() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return ", ".join(f"{x:.2f}" for x in load)


def prepare_data(rows: int, seed: int, folder: Path, env: dict[str, str]) -> Path:
    data = folder / f"rows-{rows}-seed-{seed}"
    if not (data / "leads.csv").is_file() or not (data / "stage_history.csv").is_file():
        print(f"Generating {rows:,} leads into {data} …", flush=True)
        started = time.perf_counter()
        run_once(
            [
                *funnel_command(),
                "sample",
                "--rows",
                str(rows),
                "--seed",
                str(seed),
                "--out",
                str(data),
            ],
            env,
        )
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    for name, yaml in (("default", "wide.yaml"), ("history", "long.yaml")):
        text = (ROOT / "funnels" / f"{name}.yaml").read_text(encoding="utf-8")
        (data / yaml).write_text(text.replace("../sample_data/", ""), encoding="utf-8")
    return data


def full_timings(
    f: list[str], wide: str, long_: str, data: Path, cache_dir: Path, rows: int
) -> list[Timing]:
    """Every command against the hand-written floor, the issue 8 targets beside them."""
    cached = ["--cache", "--cache-dir", str(cache_dir)]
    floor_wide = "hand-written DuckDB query (wide)"
    timings = [
        Timing("funnel --help", [*f, "--help"], target="< 0.100 s"),
        Timing("funnel --version", [*f, "--version"], target="< 0.100 s"),
        Timing(
            floor_wide,
            [sys.executable, str(HERE / "handwritten.py"), "wide", str(data / "leads.csv")],
        ),
        Timing(
            "funnel report (table)",
            [*f, "report", wide],
            floor=floor_wide,
            target="≤ 1.15× floor" + ("; < 0.5 s at 1M" if rows <= 1_000_000 else ""),
        ),
        Timing(
            "funnel cache build",
            [*f, "cache", "build", wide, "--cache-dir", str(cache_dir)],
            floor=floor_wide,
            target="< 6 s at 10M",
            forget=cache_dir,
        ),
        Timing(  # a question not asked before, over a copy used before (its one-row-
            # per-id check and first pass for as_of are stored by the untimed report)
            "funnel report --cache, new query",
            [*f, "report", wide, *cached, "--by", "channel,segment"],
            floor=floor_wide,
            forget=cache_dir / "results",
            prepare=[*f, "report", wide, *cached, "-f", "json"],
            target="≤ 512 MiB at 10M",
        ),
        Timing(
            "funnel report --cache, re-run",
            [*f, "report", wide, *cached],
            floor=floor_wide,
            prepare=[*f, "report", wide, *cached],
            target="≤ 0.7 s at 10M",
        ),
        Timing(
            "hand-written DuckDB query (long)",
            [sys.executable, str(HERE / "handwritten.py"), "long", str(data / "stage_history.csv")],
        ),
        Timing(
            "funnel report, long history",
            [*f, "report", long_],
            floor="hand-written DuckDB query (long)",
            target="< 1.0 s at 1M leads",
        ),
    ]
    for extra in ("summary", "roi"):
        timings.append(Timing(f"funnel {extra}", [*f, extra, wide], floor=floor_wide))
        timings.append(
            Timing(
                f"funnel {extra} --cache, re-run",
                [*f, extra, wide, *cached],
                floor=floor_wide,
                prepare=[*f, extra, wide, *cached],
            )
        )
    return timings


REPORT = "funnel report -f json"
PEERS = {  # name → (peers.py kind, the question)
    "pandas script": "pandas",
    "polars script": "polars",
    "minimal DuckDB query": "duckdb",
    "DuckDB count(*) (parse only)": "parse",
}


def peer_timings(csv: Path, report: list[str], *, floor: bool) -> list[Timing]:
    """`funnel report -f json` and what a user would write instead (benchmarks/peers.py);
    with `floor`, the hand-written grouped query too."""
    timings = [Timing(REPORT, report, floor="minimal DuckDB query", target="≤ 1.3× minimal")]
    if floor:
        timings.append(
            Timing(
                "hand-written DuckDB query (wide)",
                [sys.executable, str(HERE / "handwritten.py"), "wide", str(csv)],
            )
        )
    for name, kind in PEERS.items():
        timings.append(Timing(name, [sys.executable, str(HERE / "peers.py"), kind, str(csv)]))
    return timings


def check_peers_agree(csv: Path, env: dict[str, str]) -> None:
    """pandas, polars and the minimal DuckDB query must give the same counts and medians."""
    answers = {}
    for kind in ("pandas", "polars", "duckdb"):
        _, _, out, _ = run_once([sys.executable, str(HERE / "peers.py"), kind, str(csv)], env)
        answers[kind] = json.loads(out)
    first = answers["duckdb"]
    for kind, answer in answers.items():
        same = answer["counts"] == first["counts"] and all(
            (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)
            for channel, medians in first["medians"].items()
            for a, b in zip(medians, answer["medians"][channel], strict=True)
        )
        if not same:
            raise SystemExit(f"{kind} and the minimal DuckDB query disagree:\n{answer}\n{first}")
    print("  the pandas, polars and minimal DuckDB scripts agree", flush=True)


def check_same_counts(data: Path, env: dict[str, str], kinds: tuple[str, ...]) -> None:
    """The floor must compute the same funnel: compare every stage count, overall and by group."""
    for kind, yaml, csv in (
        ("wide", "wide.yaml", "leads.csv"),
        ("long", "long.yaml", "stage_history.csv"),
    ):
        if kind not in kinds:
            continue
        _, _, floor_out, _ = run_once(
            [sys.executable, str(HERE / "handwritten.py"), kind, str(data / csv)], env
        )
        _, _, report_out, _ = run_once(
            [*funnel_command(), "report", str(data / yaml), "-f", "json"], env
        )
        floor = json.loads(floor_out)["counts"]
        report = json.loads(report_out)
        ours = {"": [s["count"] for s in report["overall"]["stages"]]}
        for group in report["breakdowns"][0]["groups"]:
            ours[group["key"]["channel"]] = [s["count"] for s in group["stages"]]
        if floor != ours:
            raise SystemExit(
                f"{kind}: the hand-written query and funnel disagree:\n{floor}\n{ours}"
            )
    print("  the hand-written queries and funnel report agree on every stage count", flush=True)


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    import duckdb

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return [
        f"{platform.system()} {platform.release()}, {cpu}, "
        f"{os.cpu_count()} logical cores, {memory}",
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}",
        f"load average when the run ended: {', '.join(f'{x:.2f}' for x in load)} "
        f"({os.cpu_count()} cores)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="leads to generate")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command")
    parser.add_argument("--seed", type=int, default=7, help="sample seed")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder for generated data (default: the funnelcli cache folder)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "RESULTS.md",
        help="markdown file to write ('-' for none)",
    )
    parser.add_argument("--note", default="", help="a line to add under the machine description")
    parser.add_argument(
        "--no-checks",
        action="store_true",
        help="skip checking that the floor and the peers agree (done by an earlier run)",
    )
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip the warm-up run of each command (the files are already in the page cache)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="another checkout's src/: its `funnel report -f json` is timed too, taking turns",
    )
    parser.add_argument(
        "--suite",
        choices=["all", "peers"],
        default="all",
        help="every command, or only `funnel report` against the peers",
    )
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env.setdefault("COLUMNS", "100")
    load_before = _load()
    folder = args.data or _default_cache_dir(env) / "benchmark-data"
    folder.mkdir(parents=True, exist_ok=True)
    data = prepare_data(args.rows, args.seed, folder, env)
    cache_dir = Path(tempfile.mkdtemp(prefix="funnel-bench-cache-"))
    csv_size = (data / "leads.csv").stat().st_size
    long_size = (data / "stage_history.csv").stat().st_size
    try:
        if not args.no_checks:
            kinds = ("wide",) if args.suite == "peers" else ("wide", "long")
            check_same_counts(data, env, kinds)
        f = funnel_command()
        wide, long_ = str(data / "wide.yaml"), str(data / "long.yaml")
        report_json = [*f, "report", wide, "-f", "json"]
        peers = peer_timings(data / "leads.csv", report_json, floor=args.suite == "peers")
        if args.suite == "peers":
            timings = peers
        else:
            timings = [*full_timings(f, wide, long_, data, cache_dir, args.rows), *peers]
        if args.before is not None:
            before = ["env", f"PYTHONPATH={args.before.resolve()}", *report_json[:1]]
            timings.insert(
                1,
                Timing(
                    f"{REPORT} (before)",
                    [*before, *report_json[1:]],
                    floor="minimal DuckDB query",
                    target="the code --before points at",
                ),
            )
        if not args.no_checks:
            check_peers_agree(data / "leads.csv", env)
        warm_up = "" if args.no_warm_up else " (after one warm-up run each)"
        print(f"Timing {args.runs} rounds{warm_up}:", flush=True)
        measure(timings, args.runs, env, warm_up=not args.no_warm_up)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    lines = [
        f"## {args.rows:,} leads" + (": against the peers" if args.suite == "peers" else ""),
        "",
        f"Generated by `python benchmarks/run.py --rows {args.rows} --runs {args.runs}"
        + (" --suite peers" if args.suite == "peers" else "")
        + (" --no-warm-up" if args.no_warm_up else "")
        + (" --no-checks" if args.no_checks else "")
        + (" --before …/src" if args.before else "")
        + f"` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Whole-process wall time of each "
        f"command ({args.runs} rounds"
        + ("" if args.no_warm_up else " after one warm-up")
        + ", the commands taking turns; warm file cache), the least CPU time (user + system, "
        "all threads) of a run, and the peak RSS of the process. On a busy machine compare "
        "the min and CPU columns: wall medians include waiting for the CPU.",
        "",
        *[f"- {line}" for line in machine()],
        f"- load average when the run started: {load_before}",
        f"- data: `funnel sample --rows {args.rows} --seed {args.seed}`: leads.csv "
        f"{csv_size / MIB:,.0f} MiB (wide, one row per lead), stage_history.csv "
        f"{long_size / MIB:,.0f} MiB (long, one row per stage change)",
        *([f"- {args.note}"] if args.note else []),
        "",
        *table(timings),
        "",
        *against_peers(timings),
        "",
    ]
    if str(args.output) != "-":
        write_section(args.output, f"rows={args.rows} suite={args.suite}", lines)
        print(f"\nWrote {args.output}")


def table(timings: list[Timing]) -> list[str]:
    by_name = {t.name: t for t in timings}
    lines = [
        "| command | median s | min s | max s | CPU s | peak RSS MiB "
        "| median ÷ floor | min ÷ floor | CPU ÷ floor | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    print("\nRatios to the floor (median, min, CPU):")
    for t in timings:
        ratio = ratio_min = ratio_cpu = ""
        if t.floor and t.floor in by_name:
            floor = by_name[t.floor]
            ratio = f"{t.median / floor.median:.2f}×"
            ratio_min = f"{t.best / floor.best:.2f}×"
            ratio_cpu = f"{t.best_cpu / floor.best_cpu:.2f}×"
            print(f"  {t.name:<34} {ratio:>7} {ratio_min:>7} {ratio_cpu:>7}")
        label = " ".join(_short(t.command)) + ("` (before)" if "(before)" in t.name else "`")
        lines.append(
            f"| `{label} | {t.median:.3f} | {t.best:.3f} | "
            f"{max(t.seconds):.3f} | {t.best_cpu:.3f} | {t.peak / MIB:.0f} | {ratio} | "
            f"{ratio_min} | {ratio_cpu} | {t.target} |"
        )
    return lines


def against_peers(timings: list[Timing]) -> list[str]:
    """`funnel report -f json` against each peer: > 1 means funnel took longer."""
    by_name = {t.name: t for t in timings}
    ours = by_name[REPORT]
    others = [*PEERS, "hand-written DuckDB query (wide)"]
    lines = [
        f"`{REPORT}` ÷ each peer (below 1: funnel is faster):",
        "",
        "| peer | median s | funnel ÷ peer, median | min | CPU | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    print(f"\n{REPORT} ÷ each peer (median, min, CPU):")
    for name in others:
        peer = by_name.get(name)
        if peer is None:
            continue
        ratios = (
            ours.median / peer.median,
            ours.best / peer.best,
            ours.best_cpu / peer.best_cpu,
        )
        print(f"  {name:<34} " + " ".join(f"{r:6.2f}×" for r in ratios))
        lines.append(
            f"| {name} | {peer.median:.3f} | "
            + " | ".join(f"{r:.2f}×" for r in ratios)
            + f" | {peer.peak / MIB:.0f} |"
        )
    return lines


def write_section(path: Path, tag: str, lines: list[str]) -> None:
    """Replace this run's section of `path` (between its two markers), or append it: the
    hand-written analysis around the generated tables stays."""
    start, end = f"<!-- run.py {tag} -->", f"<!-- end run.py {tag} -->"
    block = "\n".join([start, *lines, end])
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def _default_cache_dir(env: dict[str, str]) -> Path:
    """funnelcli's cache folder, asked of a child process: importing funnelcli here would grow
    this process, and a child's peak RSS (ru_maxrss) starts from its parent's size at fork."""
    code = "from funnelcli.engine.store import default_cache_dir; print(default_cache_dir())"
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return Path(found.stdout.strip())


def _short(command: list[str]) -> list[str]:
    """The command as a reader would type it (no interpreter or temp paths)."""
    words = []
    for word in command:
        if word == sys.executable or word == "env" or word.startswith("PYTHONPATH="):
            continue
        if word == "-m":
            continue
        if word == "funnelcli":
            words.append("funnel")
            continue
        if "funnel-bench-cache-" in word:
            words.append("DIR")
            continue
        words.append(Path(word).name if os.sep in word else word)
    return words


if __name__ == "__main__":
    main()
