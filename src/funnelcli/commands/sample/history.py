"""stage_history.csv: each lead's stage rows, put in order with an external merge sort.

Rows arrive a day of leads at a time, in creation order, but the file is ordered by
``changed_at``, then ``lead_id``, then stage. Each row is held as one line, a fixed-width sort key
followed by the CSV row. Once `chunk_rows` lines are held, they are sorted and written to a run
file in a temporary folder beside the output; writing the history merges the runs.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from pathlib import Path
from types import TracebackType

from funnelcli.commands.sample.vocabulary import HISTORY_COLUMNS, LeadRow
from funnelcli.engine.store import writing

CHUNK_ROWS = 200_000  # history rows sorted in memory before a sorted run is written to disk

# The stage order for rows at the same time of the same lead, as one sort-key character.
_STAGE_KEY = {"New": "0", "MQL": "1", "Trial": "2", "Closed Won": "3", "Closed Lost": "4",
              "Renewed": "5"}  # fmt: skip
# History rows of a lead beyond its stage times, as (stage, changed_at): re-entries, Closed Lost.
ExtraHistory = tuple[tuple[str, str], ...]
_TIMESTAMP_WIDTH = len("2024-01-08 00:00:00")


class StageHistory:
    """The history rows of the leads added so far; a context manager owning the run folder."""

    def __init__(self, folder: Path, *, lead_id_width: int, chunk_rows: int = CHUNK_ROWS) -> None:
        self._folder = folder
        # A line is <changed_at><lead_id><stage key><CSV row>; lead ids are "L" + digits.
        self._key_length = _TIMESTAMP_WIDTH + 1 + lead_id_width + 1
        self._chunk_rows = chunk_rows
        self._lines: list[str] = []
        self._runs: list[str] = []
        self._run_folder: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> StageHistory:
        self._run_folder = tempfile.TemporaryDirectory(prefix=".funnel-sample-", dir=self._folder)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._run_folder is not None
        self._run_folder.cleanup()
        self._lines.clear()

    def add_leads(self, leads: list[LeadRow], extra: list[ExtraHistory]) -> None:
        """The rows of some leads.csv rows: one per stage time a lead has, plus its `extra`
        (stage, changed_at) rows (re-entries, Closed Lost)."""
        add = self._lines.append
        for lead, lead_extra in zip(leads, extra, strict=True):
            (lead_id, account_id, _, created_at, channel, _, owner, _,
             qualified_at, trial_started_at, paid_at, _, renewed_at, _) = lead  # fmt: skip
            head = lead_id + "," + account_id + ","
            tail = "," + owner + "," + channel + "\n"
            # The stage columns' keys spelled out (this runs for every lead); see _STAGE_KEY.
            add(created_at + lead_id + "0" + head + "New," + created_at + tail)
            if qualified_at:
                add(qualified_at + lead_id + "1" + head + "MQL," + qualified_at + tail)
            if trial_started_at:
                add(trial_started_at + lead_id + "2" + head + "Trial," + trial_started_at + tail)
            if paid_at:
                add(paid_at + lead_id + "3" + head + "Closed Won," + paid_at + tail)
            if renewed_at:
                add(renewed_at + lead_id + "5" + head + "Renewed," + renewed_at + tail)
            for stage, at in lead_extra:
                add(at + lead_id + _STAGE_KEY[stage] + head + stage + "," + at + tail)
        if len(self._lines) >= self._chunk_rows:
            self._write_run()

    def write(self, path: Path) -> None:
        """Write stage_history.csv to `path`, ordered, from the rows added so far."""
        key_length = self._key_length
        with writing(path) as stream:
            stream.write(",".join(HISTORY_COLUMNS) + "\n")
            if not self._runs:
                self._lines.sort()
                stream.writelines([line[key_length:] for line in self._lines])
                self._lines.clear()
                return
            if self._lines:
                self._write_run()
            runs = [open(run, encoding="utf-8", newline="") for run in self._runs]  # noqa: SIM115
            try:
                stream.writelines(line[key_length:] for line in heapq.merge(*runs))
            finally:
                for run in runs:
                    run.close()

    def _write_run(self) -> None:
        assert self._run_folder is not None, "StageHistory is used outside its with block"
        self._lines.sort()
        run = os.path.join(self._run_folder.name, f"run{len(self._runs):05d}")
        with open(run, "w", encoding="utf-8", newline="") as stream:
            stream.writelines(self._lines)
        self._runs.append(run)
        self._lines.clear()
