"""Whole-process benchmark of `funnel` against a hand-written DuckDB query of the same funnel.

    python benchmarks/run.py --rows 10000000          # the issue's figure (needs ~2.5 GB disk)
    python benchmarks/run.py --rows 1000000 --runs 5  # quicker
    python benchmarks/run.py --risk-accounts 20000    # also funnel risk (benchmarks/risk.py)

It writes a seeded synthetic export with `funnel sample` into a data folder (reused when it is
already there), times each command as a separate process several times (median, min–max,
peak RSS of the child from wait4's rusage), prints the ratios to the floor
(benchmarks/handwritten.py) and writes benchmarks/RESULTS.md with the machine described.
The floor and `funnel report` must agree on every stage count, or the run stops.
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


def measure(timing: Timing, runs: int, env: dict[str, str]) -> Timing:
    run_once(timing.command, env)  # warm-up: file cache, imports compiled
    for _ in range(runs):
        if timing.forget is not None:
            shutil.rmtree(timing.forget, ignore_errors=True)
        if timing.prepare is not None:
            run_once(timing.prepare, env)
        seconds, rss, _, cpu = run_once(timing.command, env)
        timing.seconds.append(seconds)
        timing.cpu.append(cpu)
        timing.rss.append(rss)
    print(
        f"  {timing.name:<34} median {timing.median:7.3f} s  min {timing.best:7.3f} s  "
        f"max {max(timing.seconds):7.3f} s  CPU {timing.best_cpu:7.3f} s  "
        f"peak {timing.peak / MIB:5.0f} MiB",
        flush=True,
    )
    return timing


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


def has_command(name: str, env: dict[str, str]) -> bool:
    probe = subprocess.run([*funnel_command(), name, "--help"], capture_output=True, env=env)
    return probe.returncode == 0


def check_same_counts(data: Path, env: dict[str, str]) -> None:
    """The floor must compute the same funnel: compare every stage count, overall and by group."""
    for kind, yaml, csv in (
        ("wide", "wide.yaml", "leads.csv"),
        ("long", "long.yaml", "stage_history.csv"),
    ):
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
        f"load average when the run ended: {', '.join(f'{x:.2f}' for x in load)}",
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
        "--risk-accounts",
        type=int,
        default=0,
        help="also run benchmarks/risk.py with this many accounts × 730 days (funnel risk)",
    )
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env.setdefault("COLUMNS", "100")
    folder = args.data or _default_cache_dir(env) / "benchmark-data"
    folder.mkdir(parents=True, exist_ok=True)
    data = prepare_data(args.rows, args.seed, folder, env)
    cache_dir = Path(tempfile.mkdtemp(prefix="funnel-bench-cache-"))
    csv_size = (data / "leads.csv").stat().st_size
    long_size = (data / "stage_history.csv").stat().st_size
    try:
        check_same_counts(data, env)
        f = funnel_command()
        wide, long_ = str(data / "wide.yaml"), str(data / "long.yaml")
        cached = ["--cache", "--cache-dir", str(cache_dir)]
        timings = [
            Timing("funnel --help", [*f, "--help"], target="< 0.100 s"),
            Timing("funnel --version", [*f, "--version"], target="< 0.100 s"),
            Timing(
                "hand-written DuckDB query (wide)",
                [sys.executable, str(HERE / "handwritten.py"), "wide", str(data / "leads.csv")],
            ),
            Timing(
                "funnel report (table)",
                [*f, "report", wide],
                floor="hand-written DuckDB query (wide)",
                target="≤ 1.15× floor" + ("; < 0.5 s at 1M" if args.rows <= 1_000_000 else ""),
            ),
            Timing(
                "funnel report -f json",
                [*f, "report", wide, "-f", "json"],
                floor="hand-written DuckDB query (wide)",
                target="≤ 1.15× floor",
            ),
            Timing(
                "funnel cache build",
                [*f, "cache", "build", wide, "--cache-dir", str(cache_dir)],
                floor="hand-written DuckDB query (wide)",
                target="< 6 s at 10M",
                forget=cache_dir,
            ),
            Timing(  # a question not asked before, over a copy used before (its one-row-
                # per-id check and first pass for as_of are stored by the untimed report)
                "funnel report --cache, new query",
                [*f, "report", wide, *cached, "--by", "channel,segment"],
                floor="hand-written DuckDB query (wide)",
                forget=cache_dir / "results",
                prepare=[*f, "report", wide, *cached, "-f", "json"],
                target="≤ 512 MiB at 10M",
            ),
            Timing(
                "funnel report --cache, re-run",
                [*f, "report", wide, *cached],
                floor="hand-written DuckDB query (wide)",
                target="≤ 0.7 s at 10M",
            ),
            Timing(
                "hand-written DuckDB query (long)",
                [
                    sys.executable,
                    str(HERE / "handwritten.py"),
                    "long",
                    str(data / "stage_history.csv"),
                ],
            ),
            Timing(
                "funnel report, long history",
                [*f, "report", long_],
                floor="hand-written DuckDB query (long)",
                target="< 1.0 s at 1M leads",
            ),
        ]
        for extra in ("summary", "roi"):
            if has_command(extra, env):
                timings.append(
                    Timing(
                        f"funnel {extra}",
                        [*f, extra, wide],
                        floor="hand-written DuckDB query (wide)",
                    )
                )
                timings.append(
                    Timing(
                        f"funnel {extra} --cache, re-run",
                        [*f, extra, wide, *cached],
                        floor="hand-written DuckDB query (wide)",
                    )
                )
        print(f"Timing {args.runs} runs each (after one warm-up run):", flush=True)
        for timing in timings:
            measure(timing, args.runs, env)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    by_name = {t.name: t for t in timings}
    lines = [
        f"# Benchmark results: {args.rows:,} leads",
        "",
        f"Generated by `python benchmarks/run.py --rows {args.rows} --runs {args.runs}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Whole-process wall time of each command "
        f"({args.runs} runs after one warm-up; warm file cache), the least CPU time (user + "
        "system, all threads) of a run, and the peak RSS of the process. On a busy machine "
        "compare the min and CPU columns: wall medians include waiting for the CPU.",
        "",
        *[f"- {line}" for line in machine()],
        f"- data: `funnel sample --rows {args.rows} --seed {args.seed}`: leads.csv "
        f"{csv_size / MIB:,.0f} MiB (wide, one row per lead), stage_history.csv "
        f"{long_size / MIB:,.0f} MiB (long, one row per stage change)",
        *([f"- {args.note}"] if args.note else []),
        "",
        "| command | median s | min s | max s | CPU s | peak RSS MiB "
        "| median ÷ floor | min ÷ floor | CPU ÷ floor | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    print("\nRatios to the floor (median, min, CPU):")
    for t in timings:
        ratio = ratio_min = ratio_cpu = ""
        if t.floor:
            floor = by_name[t.floor]
            ratio = f"{t.median / floor.median:.2f}×"
            ratio_min = f"{t.best / floor.best:.2f}×"
            ratio_cpu = f"{t.best_cpu / floor.best_cpu:.2f}×"
            print(f"  {t.name:<34} {ratio:>7} {ratio_min:>7} {ratio_cpu:>7}")
        lines.append(
            f"| `{' '.join(_short(t.command))}` | {t.median:.3f} | {t.best:.3f} | "
            f"{max(t.seconds):.3f} | {t.best_cpu:.3f} | {t.peak / MIB:.0f} | {ratio} | "
            f"{ratio_min} | {ratio_cpu} | {t.target} |"
        )
    lines.append("")
    if str(args.output) != "-":
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"\nWrote {args.output}")
    if args.risk_accounts:  # its own section of RESULTS.md, between its markers
        risk = [sys.executable, str(HERE / "risk.py"), "--accounts", str(args.risk_accounts)]
        output = [] if str(args.output) == "-" else ["--output", str(args.output)]
        subprocess.run([*risk, "--runs", str(args.runs), *output], check=True, env=env)


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
        if word == sys.executable:
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
