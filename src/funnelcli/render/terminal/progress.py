"""A progress bar on stderr while DuckDB reads the sources (rich's Progress)."""

from __future__ import annotations

from rich.console import Console


class QueryProgress:
    """A progress bar on stderr while DuckDB reads the sources: the query's done fraction as
    bytes of the source files (an estimate: DuckDB reports progress over the whole plan), with
    elapsed time and ETA. Shown only after `delay` seconds so small files never flash a bar;
    removed when done. Called from the engine's polling thread (rich's Progress is
    thread-safe)."""

    def __init__(self, console: Console, label: str, total_bytes: int, delay: float = 0.5) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(label, total=max(total_bytes, 1), start=False)
        self._total = max(total_bytes, 1)
        self._delay = delay
        self._started_at: float | None = None
        self._shown = False

    def __enter__(self) -> QueryProgress:
        import time

        self._started_at = time.monotonic()
        return self

    def __call__(self, fraction: float) -> None:
        import time

        if self._started_at is None or time.monotonic() - self._started_at < self._delay:
            return
        if not self._shown:
            self._shown = True
            self._progress.start()
            self._progress.start_task(self._task)
        self._progress.update(self._task, completed=int(fraction * self._total))

    def __exit__(self, *_: object) -> None:
        self._started_at = None  # late calls from the polling thread do nothing
        if self._shown:
            self._progress.stop()
