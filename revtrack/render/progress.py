"""A progress display for long runs: a rich bar on a terminal, nothing otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def counter(label: str, stream: TextIO, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``update(count)``; shows a live count when ``stream`` is a terminal.

    With a ``total`` (an import that read its records ahead), a bar with the
    count of the total and the time left; without, the count and the time so far.
    """
    if not stream.isatty():
        yield lambda count: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[ProgressColumn | str] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), TextColumn("{task.completed:,} of {task.total:,} versions"), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed:,} versions"), TimeElapsedColumn()]
    progress = Progress(*columns, console=Console(file=stream), transient=True)
    with progress:
        task = progress.add_task(label, total=total or None)
        last = [0]

        def update(count: int) -> None:
            if count - last[0] >= 100:
                progress.update(task, completed=count)
                last[0] = count

        yield update
