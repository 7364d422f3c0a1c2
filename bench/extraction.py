"""Article extraction quality on the 181 real news pages of the article-extraction-benchmark.

revtrack's own extraction (``revtrack.web.extract_article``) on each page of
../shared/realdata/article-extraction-benchmark, scored exactly as that
benchmark's evaluate.py does: text split into ``\\w+`` tokens, counts of
4-token shingles per page (true positives = the overlap of the counts),
precision and recall per page (normalised so long pages weigh no more),
each averaged over the pages, F1 of the two averages. Target F1 ≥ 0.958
(trafilatura's published figure on this benchmark).
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from pathlib import Path

from bench.common import REALDATA, markdown_table
from revtrack.errors import RevtrackError
from revtrack.web import extract_article

DATA = REALDATA / "article-extraction-benchmark"
_WORD = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _WORD.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_scores(true: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingle counts, normalised to sum to 1."""
    wanted, got = shingles(true), shingles(predicted)
    tp = sum((wanted & got).values())
    fp = sum((got - wanted).values())
    fn = sum((wanted - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 over (true, predicted) bodies, as evaluate.py computes them."""
    counts = [page_scores(true, predicted) for true, predicted in pairs]
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}


def extracted_body(html: str, url: str | None) -> str:
    try:
        return extract_article(html, url).body
    except RevtrackError:
        return ""


def run(tiny: bool = False, folder: Path = DATA) -> tuple[str, dict[str, float]]:
    truth_path = folder / "ground-truth.json"
    if not truth_path.exists():
        return f"(skipped: {folder} is not here)", {}
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    items = sorted(truth.items())[: 5 if tiny else None]
    pairs = []
    for key, item in items:
        with gzip.open(folder / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as handle:
            html = handle.read()
        pairs.append((item["articleBody"], extracted_body(html, item.get("url"))))
    metrics = score(pairs)
    table = markdown_table(
        ["pages", "precision", "recall", "F1", "target F1"],
        [
            [
                str(len(pairs)),
                f"{metrics['precision']:.3f}",
                f"{metrics['recall']:.3f}",
                f"{metrics['f1']:.3f}",
                "≥ 0.958",
            ]
        ],
    )
    return table, metrics


if __name__ == "__main__":
    print(run()[0])
