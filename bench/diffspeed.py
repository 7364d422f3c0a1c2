"""Diff engine speed: article pairs of ~800, ~5,000 and ~50,000 words against git's word diff.

Texts are real news paragraphs (../shared/realdata article bodies, else the seeds)
with realistic edits: reworded phrases, changed numbers, paragraphs added,
removed and moved; the 800-word pair is edited densely. revtrack is timed in
process (``align``: the word ops; ``diff_texts``: ops plus moves, changes,
sentences, stats); git as the whole ``git diff --no-index --word-diff=porcelain``
process. Targets: ≤ 3× git at 5k words, ≤ 2× at 50k.

Each side runs 15 times after 3 warm-up runs, the two sides taking turns (so
that both see the same moments of a shared machine); the table gives the
fastest run of each (as ``timeit`` advises: the slower runs measure the
neighbours) and, for the ratio, the medians as well.
"""

from __future__ import annotations

import random
import statistics

from bench.common import article_of, edit, markdown_table, news_paragraphs, timings
from bench.gitoracle import changed_chars, git_word_diff
from revtrack.diff import diff_texts
from revtrack.engine import align


def run(tiny: bool = False) -> tuple[str, list[dict[str, float]]]:
    rng = random.Random(27102017)
    pool = news_paragraphs()
    sizes = (
        [(200, 0.10, "200 (tiny)")]
        if tiny
        else [(800, 0.12, "800, dense"), (5000, 0.03, "5,000"), (50000, 0.02, "50,000")]
    )
    repeat = 3 if tiny else 15
    rows, figures = [], []
    for words, rate, label in sizes:
        old_paragraphs = article_of(words, rng, pool)
        old = "\n\n".join(old_paragraphs)
        new = "\n\n".join(edit(old_paragraphs, rng, rate, pool))
        for _ in range(3):  # warm up both sides alike: allocator, caches, the page cache for git
            align(old, new), diff_texts(old, new), git_word_diff(old, new)
        # Interleaved, so that both sides see the same moments of this shared machine.
        ops_times, full_times, git_times = [], [], []
        for _ in range(repeat):
            ops_times += timings(lambda: align(old, new), 1)  # noqa: B023 (run at once, inside the loop)
            full_times += timings(lambda: diff_texts(old, new), 1)  # noqa: B023
            git_times.append(git_word_diff(old, new)[1])
        ops_time, full_time, git_time = min(ops_times), min(full_times), min(git_times)
        ours = changed_chars(align(old, new).ops)
        theirs = git_word_diff(old, new)[0]
        figures.append({
            "words": words, "align_ms": ops_time * 1e3, "diff_ms": full_time * 1e3, "git_ms": git_time * 1e3,
            "align_median_ratio": statistics.median(ops_times) / statistics.median(git_times),
            "diff_median_ratio": statistics.median(full_times) / statistics.median(git_times),
        })  # fmt: skip
        rows.append([
            label, f"{len(old.split()):,}", f"{git_time * 1e3:.1f}", f"{ops_time * 1e3:.1f}",
            f"{ops_time / git_time:.2f}× ({figures[-1]['align_median_ratio']:.2f}×)",
            f"{full_time * 1e3:.1f}", f"{full_time / git_time:.2f}× ({figures[-1]['diff_median_ratio']:.2f}×)",
            f"{ours:,} / {theirs:,}",
        ])  # fmt: skip
    table = markdown_table(
        ["pair (words)", "old words", "git --word-diff ms", "revtrack ops ms", "ops / git (medians)", "full diff ms",
         "full / git (medians)", "changed chars ours / git"],
        rows,
    )  # fmt: skip
    return table, figures


if __name__ == "__main__":
    print(run()[0])
