"""A progress display for long runs: a rich bar on a terminal, nothing otherwise."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def counter(
    label: str, stream: TextIO, total: int | None = None
) -> Iterator[tuple[Callable[[int], None], Callable[[str], None]]]:
    """Yield ``update(count)`` and ``stage(label)``; shows a live count when ``stream`` is a terminal.

    With a ``total`` (an import that read its records ahead), a bar filling
    up with the count of the total; without, a pulsing bar and the count;
    either way the time so far. ``stage`` names the work that follows the count (git writing, packing):
    the bar then pulses under that name, with the time it has taken.
    """
    if not stream.isatty():
        yield (lambda count: None), (lambda label: None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    # Drawn when the count moves, at most ten times a second (and the spinner
    # and clock every second), so that what is shown is the latest count.
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(), console=Console(file=stream), transient=True, refresh_per_second=1,
    )  # fmt: skip
    shown = f" of {total:,} versions" if total else " versions"
    with progress:
        task = progress.add_task(label, total=total or None, count=f"0{shown}")
        drawn = [0.0]

        def update(count: int) -> None:
            if time.monotonic() - drawn[0] >= 0.1:
                progress.update(task, completed=count, count=f"{count:,}{shown}", refresh=True)
                drawn[0] = time.monotonic()

        def stage(label: str) -> None:
            progress.reset(task, total=None, description=label, count="")
            progress.refresh()

        yield update, stage
