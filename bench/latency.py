"""Start-up: every command as a whole process on the seed store, against the floor.

The floor is what any Typer + rich tool pays before doing anything:
``python -c "import typer, rich.console"``. Target: read commands (diff, log,
show, list, when, blame, search, watch --status) within 1.3× of it. ``snapshot`` and ``import``
load GitPython to write and are shown for completeness.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import SEEDS, interleaved_process_seconds, markdown_table, python

SEED = "rudaw-coalition-ceasefire"


def run(tiny: bool = False) -> tuple[str, dict[str, float]]:
    repeat = 3 if tiny else 21
    # Compile the package once, as any first run would; PYTHONDONTWRITEBYTECODE may be set here.
    subprocess.run(
        [python(), "-m", "compileall", "-q", str(Path(__file__).resolve().parent.parent / "revtrack")], check=True
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="revtrack-latency-") as folder:
        store = Path(folder) / "store"
        base = [python(), "-m", "revtrack", "--store", str(store)]
        subprocess.run([*base, "import", str(SEEDS), "--article", SEED], check=True, capture_output=True)
        subprocess.run([*base, "log", SEED], check=True, capture_output=True)  # fill the change statistics once
        commands = {
            "diff": ["diff", SEED, "1", "2"],
            "diff --format json": ["diff", SEED, "--format", "json"],
            "log": ["log", SEED],
            "show": ["show", SEED],
            "list": ["list"],
            "when": ["when", SEED, "no official ceasefire"],
            "blame": ["blame", SEED],
            "search": ["search", "official ceasefire"],
            "watch --status": ["watch", "--status"],
        }
        _watch_state(store)
        source = Path(folder) / "v.txt"
        shutil.copy(SEEDS / "v3.txt", source)
        # Every command takes turns with the floor, so that the machine's phases fall on all of them.
        figures.update(
            interleaved_process_seconds(
                {
                    "floor": [python(), "-c", "import typer, rich.console"],
                    "python": [python(), "-c", "pass"],
                    **{name: [*base, *args] for name, args in commands.items()},
                    "snapshot (unchanged)": [*base, "snapshot", str(source), "--article", SEED],
                },
                repeat,
            )
        )
    rows = [["`python -c pass`", f"{figures['python'] * 1e3:.0f}", ""],
            ["floor: `import typer, rich.console`", f"{figures['floor'] * 1e3:.0f}", "1.00×"]]  # fmt: skip
    for name in list(commands) + ["snapshot (unchanged)"]:
        rows.append([f"`revtrack {name}`", f"{figures[name] * 1e3:.0f}", f"{figures[name] / figures['floor']:.2f}×"])
    return markdown_table(["command (whole process, median)", "ms", "÷ floor"], rows), figures


def _watch_state(store: Path) -> None:
    """What one watch pass over the seed article's URL leaves for ``watch --status`` to read (no network)."""
    import time
    from datetime import timedelta

    from revtrack.watchstate import WatchState

    state = WatchState(str(store / "revtrack" / "watch.sqlite"))
    url, now = "https://news.example.org/english/kurdistan/coalition-peshmerga-iraqi-talks", time.time()
    try:
        with state.transaction():
            state.track(url, SEED, "config", now)
            state.record(url, now, [(timedelta(hours=3), timedelta(minutes=15))], None, True)
    finally:
        state.close()


if __name__ == "__main__":
    print(run()[0])
