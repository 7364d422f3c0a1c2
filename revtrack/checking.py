"""``revtrack check``: is the record intact? git's own fsck, then the index against git."""

from __future__ import annotations

from revtrack.errors import NotAStore, StoreDamaged
from revtrack.gitread import cat_objects, parse_commit, read_ref, rev_list, trailers
from revtrack.ids import LAYOUTS
from revtrack.index import COMPACT_FROM_FREE_SHARE
from revtrack.store import STORE_FORMAT, Store

_ARTICLES_AT_ONCE = 1_000  # articles whose latest texts the passage check reads from git in one go


def check_store(store: Store) -> list[str]:
    """Lines of a report; raises :class:`StoreDamaged` listing every problem found."""
    if not store.exists():
        raise NotAStore(f"no revtrack store at {store.path}")
    problems: list[str] = []
    tip = read_ref(store.path)
    from_git = _revisions_in_git(store.path, tip) if tip else []
    index = store.index()
    from_index = index.all_revisions()
    if sorted(from_git) != sorted(from_index):
        problems.append(f"index lists {len(from_index)} revisions, git has {len(from_git)}")
    numbering: dict[str, list[int]] = {}
    for article, rev, _ in from_git:
        numbering.setdefault(article, []).append(rev)
    for article, revs in numbering.items():
        if revs != list(range(1, len(revs) + 1)):
            problems.append(f"{article}: revision numbers {revs} are not 1..{len(revs)}")
    if not problems:  # the search index's paragraphs, once its revisions are git's
        problems += _passage_problems(store)
    problems += _fsck_problems(store.path)
    if problems:
        raise StoreDamaged("store check failed: " + "; ".join(problems))
    articles = len(numbering)
    report = [
        f"ok: {len(from_git)} revisions of {articles} articles; git fsck --strict clean; index matches git "
        "(its revisions, and each article's paragraphs for search)"
    ]
    store_format = store.store_format()
    report.append(f"store format {store_format}: files at {LAYOUTS[store_format]}")
    if store_format != STORE_FORMAT:  # kept: rewriting the tree would give every revision a new commit id
        report.append(f"note: new stores use format {STORE_FORMAT} ({LAYOUTS[STORE_FORMAT]}), whose trees cost git "
                      "half as much per version at 100,000 articles; this store keeps its layout")  # fmt: skip
    size, free = index.space()
    if free and free >= COMPACT_FROM_FREE_SHARE * size:
        report.append(f"note: {free / 1e6:.1f} of the index's {size / 1e6:.1f} MB are free pages ('revtrack "
                      "maintain' gives them back)")  # fmt: skip
    from revtrack.reflock import stale_locks

    left = stale_locks(store.path)
    if left:  # not damage: plain git refuses to write until they go, revtrack's next write removes them
        report.append(f"note: git lock files left by a killed process: {', '.join(left)} (the next revtrack write "
                      "removes them)")  # fmt: skip
    return report


def _passage_problems(store: Store) -> list[str]:
    """Whether each article's open passages in the search index are its latest text's paragraphs.

    Reads every article's latest text from git, ``_ARTICLES_AT_ONCE`` articles at a time
    (the benchmark's 10,000: 1.9 s; ≈ 4 min at 1.28 M articles).
    """
    from revtrack.index import passage_digests
    from revtrack.search_text import passages

    index = store.index()
    differ: list[str] = []
    after = ""
    while latest := index.latest_revisions(after, _ARTICLES_AT_ONCE):
        held = index.open_digests([revision.article for revision in latest])
        for revision, document in zip(latest, store.texts(latest), strict=True):
            if held[revision.article] != set(passage_digests(passages(document.title, document.body))):
                differ.append(revision.article)
        after = latest[-1].article
    if not differ:
        return []
    return [
        f"the search index's paragraphs of {len(differ)} article(s) are not their latest text's: "
        f"{', '.join(differ[:3])}{' …' if len(differ) > 3 else ''} (delete the index to rebuild it from git)"
    ]


def _fsck_problems(git_dir: str) -> list[str]:
    import os
    import subprocess

    env = {**os.environ, "GIT_DIR": git_dir}
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-progress", "--no-dangling"], capture_output=True, env=env, check=False
    )
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines() or ["git fsck failed"]
        return [f"git fsck: {lines[0]}" + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else "")]
    return []


def _revisions_in_git(git_dir: str, tip: str) -> list[tuple[str, int, str]]:
    commits = rev_list(git_dir, tip)
    found = []
    for start in range(0, len(commits), 1000):
        chunk = commits[start : start + 1000]
        for commit, data in zip(chunk, cat_objects(git_dir, chunk), strict=True):
            if data is None:
                raise StoreDamaged(f"commit {commit} is missing")
            fields = trailers(parse_commit(data)[1])
            if "Revtrack-Article" in fields:
                found.append((fields["Revtrack-Article"], int(fields["Revtrack-Rev"]), commit))
    return found
