"""The command line: the seed round trip, output formats, and every bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from revtrack.engine import rebuild
from tests.conftest import ROOT, SEED_ID, SEEDS, Cli, index_pages, leave_free_pages, seed_versions


def log_json(cli: Cli, article: str = SEED_ID) -> dict:
    result = cli("log", article, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the seed round trip --------------------------------------------------------


def test_seeds_record_three_revisions_with_their_offsets(seeded: Cli) -> None:
    revisions = log_json(seeded)["revisions"]
    assert [r["rev"] for r in revisions] == [1, 2, 3]
    assert [r["observed_at"] for r in revisions] == [v.observed_at for v in seed_versions()]
    assert revisions[1]["title"] == "Coalition confirms Peshmerga and Iraqi forces in talks, no 'official ceasefire'"
    assert revisions[2]["title"].startswith("UPDATE: ")
    assert revisions[1]["words_added"] > 0 and revisions[1]["words_deleted"] > 0
    assert "number changed: three → two" in revisions[1]["summary"]
    assert revisions[2]["stated"]["updated"] == "2017-10-27T17:32:00+03:00"


def test_git_keeps_the_observed_offset_as_author_date(seeded: Cli) -> None:
    out = subprocess.run(
        ["git", "--git-dir", str(seeded.store), "log", "--format=%ad", "--date=iso"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert out[:3] == ["2017-10-27 17:32:00 +0300", "2017-10-27 15:10:00 +0300", "2017-10-27 11:48:00 +0300"]


def test_plain_diff_of_v1_v2_marks_the_listed_changes(seeded: Cli) -> None:
    result = seeded("diff", SEED_ID, "1", "2")
    assert result.exit_code == 0
    out = result.stdout
    assert "headline: Coalition [-says ceasefire reached between-]{+confirms+} Peshmerga" in out
    assert "destroyed [-three-]{+two+} such tanks" in out
    assert "{+He later clarified on Twitter that there is no “official ‘ceasefire’” though" in out
    assert "⇄ moved to ¶10: He said they are trying to mediate" in out
    assert "⇄ moved from ¶3:" in out
    assert "He {+had+} told Rudaw TV" in out
    assert "\x1b[" not in out  # no colour into a pipe


def test_default_diff_is_previous_to_latest(seeded: Cli) -> None:
    out = seeded("diff", SEED_ID).stdout
    assert "rev 2 → rev 3" in out and "{+UPDATE:+}" in out and "{+Updated at 5:32 pm+}" in out
    assert "⋮" in out  # unchanged paragraphs folded


def test_full_and_context(seeded: Cli) -> None:
    folded = seeded("diff", SEED_ID, "2", "3", "--context", "0").stdout
    full = seeded("diff", SEED_ID, "2", "3", "--full").stdout
    assert "ERBIL, Kurdistan Region" not in folded
    assert "ERBIL, Kurdistan Region" in full and "⋮" not in full


def test_colour_always_wins_over_no_color(seeded: Cli) -> None:
    coloured = seeded("diff", SEED_ID, "1", "2", "--color", "always", env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" in coloured and "[-three-]" not in coloured
    plain = seeded("diff", SEED_ID, "1", "2", "--color", "never").stdout
    assert "\x1b[" not in plain and "[-three-]{+two+}" in plain


def test_diff_json_ops_rebuild_the_bodies_show_prints(seeded: Cli) -> None:
    data = json.loads(seeded("diff", SEED_ID, "1", "2", "--format", "json").stdout)
    assert set(data) >= {"article", "from", "to", "title_ops", "ops", "changes", "stats"}
    assert data["from"]["rev"] == 1 and data["to"]["observed_at"] == "2017-10-27T15:10:00+03:00"
    old = json.loads(seeded("show", SEED_ID, "1", "--format", "json").stdout)
    new = json.loads(seeded("show", SEED_ID, "2", "--format", "json").stdout)
    ops = [type("Op", (), {"op": o["op"], "text": o["text"]})() for o in data["ops"]]
    assert rebuild(ops) == (old["body"], new["body"])
    title_ops = [type("Op", (), {"op": o["op"], "text": o["text"]})() for o in data["title_ops"]]
    assert rebuild(title_ops) == (old["title"], new["title"])
    kinds = {c["kind"] for c in data["changes"]}
    assert kinds == {"replace", "insert", "move"}
    assert data["stats"]["words_added"] > 100


def test_sentence_view(seeded: Cli) -> None:
    out = seeded("diff", SEED_ID, "1", "2", "--sentences").stdout
    assert "~ edited ¶6.2 → ¶9.2" in out
    assert "destroyed [-three-]{+two+} such tanks" in out
    assert "+ added ¶3.1" in out and "⇄ moved ¶3.1 → ¶10.1" in out


def test_show_prints_stored_text_exactly(seeded: Cli) -> None:
    v3 = seed_versions()[2].path.read_text(encoding="utf-8")
    out = seeded("show", SEED_ID).stdout
    assert out == v3  # the published bytes, messy whitespace and all, no final newline added
    data = json.loads(seeded("show", SEED_ID, "3", "--format", "json").stdout)
    assert set(data) >= {"article", "rev", "commit", "observed_at", "title", "body", "url"}
    assert "".join(data["body"].split()) + "".join(data["title"].split()) != ""
    assert "".join(v3.split()) == "".join((data["title"] + data["body"]).split())


def test_revision_addresses(seeded: Cli) -> None:
    commit = log_json(seeded)["revisions"][1]["commit"]
    by_prefix = json.loads(seeded("show", SEED_ID, commit[:8], "--format", "json").stdout)
    assert by_prefix["rev"] == 2
    assert json.loads(seeded("show", SEED_ID, "latest", "--format", "json").stdout)["rev"] == 3
    assert json.loads(seeded("show", SEED_ID, "latest~1", "--format", "json").stdout)["rev"] == 2
    assert json.loads(seeded("show", SEED_ID, "~2", "--format", "json").stdout)["rev"] == 1


def test_a_commit_prefix_of_digits_only_names_the_commit(cli: Cli) -> None:
    """ "20817335" is revision 20817335 if there is one, else the commit it begins (one commit in 6.5 does)."""
    digits = None
    for number in range(300):
        result = cli("snapshot", "-", "--article", "a", "--at", f"2024-01-01T00:{number // 60:02d}:{number % 60:02d}Z",
                     "--format", "json", input=f"T\n\nVersion {number}.\n")  # fmt: skip
        commit = json.loads(result.stdout)["commit"]
        prefix = commit[: next((i for i, c in enumerate(commit) if not c.isdigit()), 40)]
        if len(prefix) >= 4 and int(prefix) > number + 1:
            digits = (prefix, number + 1)
            break
    assert digits is not None, "no commit began with four digits in 300 (chance below 1e-15)"
    prefix, rev = digits
    shown = cli("show", "a", prefix, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["rev"] == rev
    missing = cli("show", "a", "99", "--format", "json")
    assert missing.exit_code != 0 and "has no revision 99" in missing.stderr


def test_list(seeded: Cli) -> None:
    data = json.loads(seeded("list", "--format", "json").stdout)
    [row] = data["articles"]
    assert row["article"] == SEED_ID and row["revisions"] == 3
    assert row["first_seen"] == "2017-10-27T11:48:00+03:00" and row["last_changed"] == "2017-10-27T17:32:00+03:00"
    table = seeded("list").stdout
    assert SEED_ID in table and "UPDATE: Coalition" in table
    assert data["total"] == 1


def test_list_since_a_time_and_with_a_limit(seeded: Cli, tmp_path: Path) -> None:
    """What changed since this morning, in any offset; and the first N of many, with the total."""
    for name, at in (("b", "2017-10-27T09:00:00Z"), ("c", "2017-10-28T08:00:00+05:00")):
        (tmp_path / f"{name}.txt").write_text(f"Story {name}\n\nIts one paragraph.\n", encoding="utf-8")
        assert seeded("snapshot", str(tmp_path / f"{name}.txt"), "--article", name, "--at", at).exit_code == 0

    def listed(*args: str) -> tuple[list[str], int]:
        result = seeded("list", *args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        return [row["article"] for row in data["articles"]], data["total"]

    # The seed article last changed at 17:32+03:00 = 14:32Z; b at 09:00Z; c at 03:00Z the next day.
    assert listed() == (["b", "c", SEED_ID], 3)
    assert listed("--since", "2017-10-27T14:32:00Z") == (["c", SEED_ID], 2)  # at or after, as an instant
    assert listed("--since", "2017-10-27T17:33:00+03:00") == (["c"], 1)
    assert listed("--since", "2017-10-27T04:00:01-05:00") == (["c", SEED_ID], 2)  # 09:00:01Z: b a second before
    assert listed("--limit", "2") == (["b", "c"], 3)
    assert listed("--since", "2017-10-27T10:00:00Z", "--limit", "1") == (["c"], 2)
    cut = seeded("list", "--limit", "1")
    assert cut.stdout.count("\n") == 2 and "note: 1 of 3 articles shown (by id); --limit 0 shows all" in cut.stderr
    nothing = seeded("list", "--since", "2018-01-01")
    assert nothing.exit_code == 1 and "no articles" in nothing.stdout
    bad = seeded("list", "--since", "yesterday")
    assert bad.exit_code == 4 and bad.stderr.startswith("Error: not an ISO 8601 time")


def test_log_table_marks_headline_changes_and_stated_time(seeded: Cli) -> None:
    out = seeded("log", SEED_ID).stdout
    assert "* Coalition confirms" in out
    assert "updated 17:32 +03:00" in out
    assert "2017-10-27T15:10:00+03:00" in out


def test_identical_and_rewrapped_text_is_unchanged(seeded: Cli, tmp_path: Path) -> None:
    v3 = seed_versions()[2].path
    again = seeded("snapshot", str(v3), "--article", SEED_ID, "--format", "json")
    assert json.loads(again.stdout) == {**json.loads(again.stdout), "changed": False, "rev": 3}
    text = v3.read_text(encoding="utf-8")
    rewrapped = tmp_path / "rewrapped.txt"
    words = text.split(" ")
    rewrapped.write_text("\n".join(" ".join(words[i : i + 9]) for i in range(0, len(words), 9)), encoding="utf-8")
    # Re-wrapping inside the headline paragraph keeps the headline; so only the body is re-wrapped here.
    title, _, body = text.partition("\n\n")
    body_words = body.split(" ")
    rewrapped.write_text(
        title + "\n\n" + "\n".join(" ".join(body_words[i : i + 9]) for i in range(0, len(body_words), 9))
    )
    result = seeded("snapshot", str(rewrapped), "--article", SEED_ID)
    assert result.stdout.strip() == f"{SEED_ID}: unchanged since rev 3"
    assert len(log_json(seeded)["revisions"]) == 3


def test_stdin_and_markdown(cli: Cli) -> None:
    result = cli(
        "snapshot",
        "-",
        "--article",
        "md-story",
        "--at",
        "2024-01-01T10:00:00Z",
        input="# A headline\n\nBody text here.\n",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(cli("show", "md-story", "--format", "json").stdout)
    assert data["title"] == "A headline" and data["body"] == "Body text here.\n"
    assert data["observed_at"] == "2024-01-01T10:00:00+00:00"


def test_id_from_url_and_file_name(cli: Cli, tmp_path: Path) -> None:
    story = tmp_path / "my-story.txt"
    story.write_text("Head\n\nBody one.\n")
    assert cli("snapshot", str(story)).exit_code == 0
    assert cli("show", "my-story").exit_code == 0
    result = cli("snapshot", str(story), "--url", "https://www.example.org/news/a-b?utm_source=x#top")
    assert result.stdout.startswith("example.org/news/a-b: recorded rev 1")


def test_at_without_offset_is_assumed_and_said(cli: Cli, tmp_path: Path) -> None:
    story = tmp_path / "s.txt"
    story.write_text("Head\n\nBody.\n")
    result = cli("snapshot", str(story), "--at", "2024-05-01T12:00:00")
    assert result.exit_code == 0
    assert "Warning: no UTC offset in '2024-05-01T12:00:00'; assumed this machine's offset" in result.stderr


def test_help_has_an_example_for_every_command_and_readme_shows_each() -> None:
    from typer.main import get_command

    from revtrack.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert "revtrack " + name in (command.epilog or ""), f"{name} --help has no example"
        assert f"revtrack {name}" in readme, f"README does not show revtrack {name}"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["diff", "a", "1", "2"], "diff"),
        (["--store", "diff", "log", "a"], "log"),  # a store folder named like a command
        (["--store=s", "--lock-timeout", "5", "show", "a"], "show"),
        (["--lock-timeout", "list", "when"], "when"),
        (["--", "search", "x"], "search"),
        (["--version"], None),
        (["-h"], None),
        (["--store"], None),
        ([], None),
    ],
)
def test_command_named_skips_the_groups_own_options(args: list[str], named: str | None) -> None:
    from revtrack.cli import command_named

    assert command_named(args) == named


def test_the_groups_options_that_take_a_value_are_the_ones_command_named_skips() -> None:
    """A new global option with a value, left out there, would have its value read as the command."""
    from typer.main import get_command

    from revtrack.cli import _GLOBAL_OPTIONS_WITH_VALUE, app

    taking_values = {name for p in get_command(app).params if not getattr(p, "is_flag", True) for name in p.opts}
    assert taking_values == set(_GLOBAL_OPTIONS_WITH_VALUE)


def test_a_command_line_builds_only_its_command_and_says_the_same(seeded: Cli) -> None:
    from typer.main import get_command
    from typer.testing import CliRunner

    from revtrack.cli import app, app_for

    every = list(get_command(app).commands)  # type: ignore[attr-defined]
    assert len(every) == 12
    lines: list[tuple[list[str], list[str]]] = [([name, "--help"], [name]) for name in every]
    lines += [
        (["--store", str(seeded.store), "diff", SEED_ID, "1", "3"], ["diff"]),
        (["log", SEED_ID, "--format", "json"], ["log"]),
        (["show", SEED_ID, "9"], ["show"]),  # exit 3
        (["diff", "--bogus"], ["diff"]),  # exit 2
        (["difff"], every),  # click suggests from all of them
        (["--help"], every),
        ([], every),
    ]
    runner = CliRunner()
    env = {"REVTRACK_STORE": str(seeded.store), "NO_COLOR": "", "COLUMNS": "200"}
    for args, built in lines:
        narrowed = app_for(args)
        assert list(get_command(narrowed).commands) == built, args  # type: ignore[attr-defined]
        full = runner.invoke(app, args, env=env)
        alone = runner.invoke(narrowed, args, env=env)
        assert (alone.exit_code, alone.stdout, alone.stderr) == (full.exit_code, full.stdout, full.stderr), args
    assert "Did you mean 'diff'?" in runner.invoke(app_for(["difff"]), ["difff"]).stderr
    assert len(app.registered_commands) == 12  # the app itself is left whole


def test_version(cli: Cli) -> None:
    from revtrack import __version__

    assert cli("--version").stdout.strip() == f"revtrack {__version__}"


def test_installed_entry_point_runs_as_a_real_process(seeded: Cli) -> None:
    exe = Path(sys.executable).parent / "revtrack"
    assert exe.exists(), "pip install -e . should have installed the revtrack script"
    env = {**os.environ, "REVTRACK_STORE": str(seeded.store)}
    result = subprocess.run([str(exe), "diff", SEED_ID, "1", "2"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "[-three-]{+two+}" in result.stdout
    module = subprocess.run(
        [sys.executable, "-m", "revtrack", "log", SEED_ID, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert json.loads(module.stdout)["revisions"][0]["rev"] == 1
    missing = subprocess.run([str(exe), "log", "nope"], capture_output=True, text=True, env=env, check=False)
    assert (
        missing.returncode == 3
        and missing.stderr == f"Error: no article 'nope' in {seeded.store} (see 'revtrack list')\n"
    )
    assert "Traceback" not in missing.stderr


# --- bad input: one line, a documented exit code, the store untouched ----------------


def store_state(store: Path) -> tuple:
    """Everything that defines the record: refs, objects, and the index's view of it."""
    if not store.exists():
        return ("absent",)
    objects = sorted(str(p.relative_to(store)) for p in (store / "objects").rglob("*") if p.is_file())
    refs = sorted((str(p.relative_to(store)), p.read_text()) for p in (store / "refs").rglob("*") if p.is_file())
    return (tuple(objects), tuple(refs))


BAD_SNAPSHOTS = [
    pytest.param(["--article", ""], None, 4, "article id is empty", id="empty-id"),
    pytest.param(["--article", "../etc"], None, 4, "must not contain '..'", id="dotdot-id"),
    pytest.param(["--article", "/abs/path"], None, 4, "must not be an absolute path", id="absolute-id"),
    pytest.param(["--article", "a\\b"], None, 4, "backslashes", id="backslash-id"),
    pytest.param(["--article", "bad\x1b[31mid"], None, 4, "control characters: bad\\x1b[31mid", id="control-char-id"),
    pytest.param(["--article", "x" * 201], None, 4, "longer than 200 characters", id="long-id"),
    pytest.param(["--article", "sp ace"], None, 4, "must match [A-Za-z0-9]", id="space-id"),
    pytest.param(["--article", "a/meta.json"], None, 4, "reserved name", id="reserved-id"),
    pytest.param(["--at", "yesterday"], None, 4, "not an ISO 8601 time: 'yesterday'", id="bad-at"),
    pytest.param(["--at", "2017-02-30T10:00:00+03:00"], None, 4, "not a valid time", id="impossible-date"),
    pytest.param(["--at", "2017-10-27T09:00:00+03:00"], None, 4, "earlier than rev 3", id="at-before-latest"),
    pytest.param([], b"Head\n\nBody \x00 binary", 4, "looks binary (NUL byte at offset 11)", id="nul-byte"),
    pytest.param([], b"Head\n\nCaf\xe9 au lait", 4, "not valid utf-8: byte 0xe9 at offset 9 (line 3)", id="latin1"),
    pytest.param([], b"", 4, "is empty", id="empty-file"),
    pytest.param([], b" \n\n\t \n", 4, "is empty", id="whitespace-file"),
    pytest.param(
        ["--max-bytes", "10"],
        b"Head\n\nA body longer than ten bytes",
        4,
        "larger than the limit of 10 bytes",
        id="too-big",
    ),
    pytest.param(["--encoding", "klingon"], b"Head\n\nBody", 4, "unknown encoding 'klingon'", id="unknown-encoding"),
    # A codec, but of bytes to bytes: bytes.decode raised LookupError, a traceback.
    pytest.param(["--encoding", "rot13"], b"Head\n\nBody", 4, "'rot13' is not a text encoding", id="rot13"),
    pytest.param(["--encoding", "base64"], b"Head\n\nBody", 4, "'base64' is not a text encoding", id="base64"),
]


@pytest.mark.parametrize(("args", "content", "code", "message"), BAD_SNAPSHOTS)
def test_bad_snapshot_input(seeded: Cli, tmp_path: Path, args, content, code, message) -> None:
    source = tmp_path / "input.txt"
    source.write_bytes(content if content is not None else b"Head\n\nA fine body.\n")
    before = store_state(seeded.store)
    article = [] if "--article" in args else ["--article", SEED_ID]
    result = seeded("snapshot", str(source), *article, *args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert store_state(seeded.store) == before


def test_other_encodings_work_when_named(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "latin.txt"
    source.write_bytes(b"Head\n\nCaf\xe9 au lait")
    assert cli("snapshot", str(source), "--encoding", "latin-1").exit_code == 0
    assert "Café" in cli("show", "latin").stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["log", "nope"], 3, "no article 'nope'", id="unknown-article"),
        pytest.param(["show", SEED_ID, "9"], 3, "has no revision 9 (it has 1 to 3)", id="unknown-revision"),
        pytest.param(["show", SEED_ID, "zzz"], 3, "has no revision 'zzz'", id="bad-revision"),
        pytest.param(["diff", SEED_ID, "3", "1"], 4, "FROM (rev 3) is later than TO (rev 1)", id="from-after-to"),
        pytest.param(["log", "../x"], 4, "must not contain '..'", id="bad-id-on-read"),
        pytest.param(
            ["snapshot", "/no/such/file.txt", "--article", "x"], 4, "no such file: /no/such/file.txt", id="missing-file"
        ),
        pytest.param(["snapshot", "/", "--article", "x"], 4, "/ is a directory", id="directory"),
        pytest.param(["snapshot", "-"], 4, "give --article or --url", id="stdin-without-id"),
    ],
)
def test_bad_requests(seeded: Cli, args, code, message) -> None:
    before = store_state(seeded.store)
    result = seeded(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr and result.stderr.count("\n") == 1
    assert store_state(seeded.store) == before


def test_store_path_that_is_a_file(cli: Cli, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    story = tmp_path / "s.txt"
    story.write_text("Head\n\nBody.\n")
    result = cli("--store", str(not_a_folder), "snapshot", str(story))
    assert result.exit_code == 6 and "is a file, not a folder" in result.stderr
    assert not_a_folder.read_text() == "x"


def test_folder_that_is_not_a_store(cli: Cli, tmp_path: Path) -> None:
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    story = tmp_path / "s.txt"
    story.write_text("Head\n\nBody.\n")
    result = cli("--store", str(other), "snapshot", str(story))
    assert result.exit_code == 6 and "is not a revtrack store" in result.stderr
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]


def test_project_snapshots_folder_with_its_readme_becomes_a_store(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "snapshots"
    folder.mkdir()
    (folder / "README.md").write_text("readme")
    story = tmp_path / "s.txt"
    story.write_text("Head\n\nBody.\n")
    assert cli("--store", str(folder), "snapshot", str(story)).exit_code == 0
    assert (folder / "README.md").read_text() == "readme" and (folder / "HEAD").exists()


def test_maintain_packs_the_store_and_keeps_the_history(seeded: Cli) -> None:
    before = seeded("log", SEED_ID, "--format", "json").stdout
    result = seeded("maintain")
    assert result.exit_code == 0 and result.stdout.startswith("maintained ")
    assert list((seeded.store / "objects" / "pack").glob("*.pack"))
    assert (seeded.store / "objects" / "info" / "commit-graphs" / "commit-graph-chain").read_text().count("\n") == 1
    verify = subprocess.run(["git", "--git-dir", str(seeded.store), "commit-graph", "verify"], capture_output=True)
    assert verify.returncode == 0, verify.stderr
    assert not [p for p in (seeded.store / "objects").iterdir() if len(p.name) == 2]  # no loose objects left
    assert seeded("log", SEED_ID, "--format", "json").stdout == before
    assert seeded("check").stdout.startswith("ok: 3 revisions of 1 articles")


def test_maintain_gives_the_index_its_free_pages_back_and_answers_as_before(seeded: Cli) -> None:
    questions = [("log", SEED_ID, "--format", "json"), ("search", "ceasefire", "--format", "json"),
                 ("when", SEED_ID, "official ceasefire", "--format", "json"), ("list", "--format", "json")]  # fmt: skip
    before = [seeded(*question).stdout for question in questions]
    assert leave_free_pages(seeded.store, 2) > 200
    size_before, _ = index_pages(seeded.store)
    checked = seeded("check")
    assert checked.exit_code == 0 and re.search(
        r"^note: 2\.\d of the index's 2\.\d MB are free pages \('revtrack maintain' gives them back\)$",
        checked.stdout,
        re.MULTILINE,
    ), checked.stdout
    result = seeded("maintain")
    assert result.exit_code == 0, result.output
    size_after, free_after = index_pages(seeded.store)
    assert free_after == 0 and size_after < size_before - 2_000_000
    assert result.stdout.splitlines()[1] == (
        f"index: {size_before / 1e6:.1f} MB -> {size_after / 1e6:.1f} MB (its free pages given back)"
    )
    assert [seeded(*question).stdout for question in questions] == before
    checked = seeded("check")
    assert checked.stdout.startswith("ok: 3 revisions of 1 articles") and "free pages" not in checked.stdout
    again = seeded("maintain")  # nothing free: nothing rewritten, nothing said of the index
    assert again.exit_code == 0 and again.stdout == f"maintained {seeded.store}\n"
    assert index_pages(seeded.store) == (size_after, 0)


def test_readme_commands_match_ci() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.+?)\n```", readme, re.S)
    assert commands[1] in ci, "the README's test command must be what CI runs"
    assert "seeds/demo.sh" in commands[0]
    assert (SEEDS / "v3.txt").exists()


def test_readme_shows_the_seed_diff_exactly_as_revtrack_prints_it(seeded: Cli) -> None:
    """The README's v1 → v2 diff is real output, byte for byte (a NO-BREAK SPACE after an insertion included)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```\n", readme.index(f"`revtrack diff {SEED_ID} 1 2`:")) + len("```\n")
    shown = readme[start : readme.index("```", start)]
    assert seeded("diff", SEED_ID, "1", "2").stdout == shown


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        # str.isdigit() holds for "²", which int() refuses: a ValueError traceback.
        (["diff", SEED_ID, "²"], 3, "has no revision '²'"),
        (["diff", SEED_ID, "latest~²"], 3, "has no revision 'latest~²'"),
        # Counted back past the first revision, beyond SQLite's integers: an OverflowError.
        (["diff", SEED_ID, "latest~99999999999999999999999"], 3, "has no revision"),
        (["show", SEED_ID, "~7"], 3, "has no revision ~7 (it has 1 to 3)"),
        (["--lock-timeout", "nan", "log", SEED_ID], 2, "Invalid value for '--lock-timeout'"),
        (["--lock-timeout", "-5", "log", SEED_ID], 2, "Invalid value for '--lock-timeout'"),
        (["snapshot", "-", "--article", "x", "--max-bytes", "99999999999999999999999999"], 2, "'--max-bytes'"),
        (["snapshot", "http://127.0.0.1:9/x", "--timeout", "nan"], 2, "Invalid value for '--timeout'"),
        (["snapshot", "http://127.0.0.1:9/x", "--timeout", "1e300"], 2, "Invalid value for '--timeout'"),
        (["snapshot", "http://127.0.0.1:9/x", "--timeout", "0"], 2, "Invalid value for '--timeout'"),
        (["search", "Peshmerga", "--limit", "99999999999999999999"], 0, SEED_ID),
        (["list", "--limit", "99999999999999999999"], 0, SEED_ID),
        (["import", "seeds/rudaw-coalition-ceasefire", "--processes", "0"], 2, "Invalid value for '--processes'"),
        (["import", "seeds/rudaw-coalition-ceasefire", "--processes", "65"], 2, "Invalid value for '--processes'"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_numbers_out_of_any_range_are_errors_not_tracebacks(seeded: Cli, args: list[str], code: int, says: str) -> None:
    result = seeded(*args, input="Headline\n\nBody.")
    assert result.exit_code == code, result.output
    assert says in (result.stdout if code == 0 else result.stderr)


def test_a_context_larger_than_any_article_shows_the_whole_diff_at_once(seeded: Cli) -> None:
    """``--context`` walked every paragraph number within reach of each change: 10**23 of them never ended."""
    full = seeded("diff", SEED_ID, "1", "2", "--full").stdout
    shown = subprocess.run(
        [sys.executable, "-m", "revtrack", "diff", SEED_ID, "1", "2", "--context", "99999999999999999999999"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "REVTRACK_STORE": str(seeded.store),
                                                         "NO_COLOR": "", "COLUMNS": "200"},
    )  # fmt: skip
    assert shown.returncode == 0 and shown.stdout == full
