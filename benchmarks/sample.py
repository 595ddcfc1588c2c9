"""Whole-process start-up on the bundled sample: what every small report pays.

    python benchmarks/sample.py                          # this checkout's commands
    git worktree add /tmp/before 0833bcb
    python benchmarks/sample.py --before /tmp/before/src # and another checkout's, interleaved

Each command runs on funnels/default.yaml and sample_data/ as a separate process (one warm-up,
then --runs timed runs); with --before the two checkouts take turns, so both see the same
machine. Both source trees are byte-compiled first, as `pip install` does, so neither pays for
compiling. Prints a Markdown table (median and min wall seconds, the median CPU seconds, and
the change of the medians).
Tests never assert timings; this script is for people.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import run_once  # noqa: E402  (benchmarks/ is not a package)

COMMANDS = [
    ["--help"],
    ["report"],
    ["report", "-f", "json"],
    ["summary"],
    ["cohorts"],
    ["roi"],
    ["validate"],
]


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(src), COLUMNS="100", NO_COLOR="1")
    return env


def _times(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds: on a busy machine the CPU time (user + system) is the steadier."""
    seconds, _, _, cpu = run_once([sys.executable, "-m", "funnelcli", *command], env)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--before", type=Path, help="another checkout's src/ to compare with")
    parser.add_argument(
        "--only", default="", help="only the commands starting so, e.g. 'report' (default: all)"
    )
    args = parser.parse_args()

    trees = {"after": ROOT / "src"}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    for src in trees.values():
        compileall.compile_dir(str(src), quiet=1)
    os.chdir(ROOT)  # funnels/default.yaml and sample_data/ of this checkout, for both
    envs = {name: _env(src) for name, src in trees.items()}

    header = [
        "command",
        *(f"{name} median s | {name} min s | {name} CPU median s" for name in trees),
    ]
    if args.before is not None:
        header.append("change of the median | change of the CPU median")
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (3 * len(trees) + 2 * (args.before is not None)))
    for command in [c for c in COMMANDS if " ".join(c).startswith(args.only)]:
        for env in envs.values():
            _times(command, env)  # warm-up: file cache
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        cpu: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, env in envs.items():
                wall, used = _times(command, env)
                seconds[name].append(wall)
                cpu[name].append(used)
        cells = [f"`funnel {' '.join(command)}`"]
        for name in trees:
            cells += [
                f"{statistics.median(seconds[name]):.3f}",
                f"{min(seconds[name]):.3f}",
                f"{statistics.median(cpu[name]):.3f}",
            ]
        if args.before is not None:
            for values in (seconds, cpu):
                before, after = (statistics.median(values[n]) for n in ("before", "after"))
                cells.append(f"{(after - before) / before:+.0%}")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
