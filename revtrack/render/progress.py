"""A progress display for long runs: a rich bar on a terminal, nothing otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def counter(label: str, stream: TextIO) -> Iterator[Callable[[int], None]]:
    """Yield ``update(count)``; shows a live count (and rate) when ``stream`` is a terminal."""
    if not stream.isatty():
        yield lambda count: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description} {task.completed} versions"), TimeElapsedColumn(),
        console=Console(file=stream), transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task(label, total=None)
        last = [0]

        def update(count: int) -> None:
            if count - last[0] >= 100:
                progress.update(task, completed=count)
                last[0] = count

        yield update
