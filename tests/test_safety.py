"""Article text is data: nothing in it may steer the terminal, rich, or an HTML page."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

HOSTILE_TITLE = "Headline \x1b[2J\x1b[31mred\x1b[0m [bold red]alarm[/] \x07"
HOSTILE_BODY = (
    "Paragraph one \x1b]8;;file:///etc/passwd\x07click\x1b]8;;\x07 with an OSC link.\n\n"
    "Backspace\x08\x08 and carriage\rreturn and DEL\x7f and CSI\x9b31m and RLO \u202eevil.\n\n"
    "Rich markup [link=file:///etc/passwd]here[/link] and [bold red]loud[/] and :smile:.\n\n"
    "HTML <script>alert('x')</script> &amp; done."
)
OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


@pytest.fixture
def hostile(cli: Cli, tmp_path: Path) -> Cli:
    first = tmp_path / "first.txt"
    first.write_text("Calm headline\n\nParagraph one.\n\nRich markup.\n")
    assert cli("snapshot", str(first), "--article", "h", "--at", "2024-01-01T10:00:00+00:00").exit_code == 0
    second = tmp_path / "second.txt"
    second.write_text(HOSTILE_TITLE + "\n\n" + HOSTILE_BODY, encoding="utf-8")
    result = cli("snapshot", str(second), "--article", "h", "--at", "2024-01-01T11:00:00+00:00")
    assert result.exit_code == 0, result.output
    return cli


def assert_safe(output: str, coloured: bool) -> None:
    stripped = OUR_SGR.sub("", output) if coloured else output
    assert "\x1b" not in stripped and not RAW_CONTROL.search(stripped.replace("\n", "").replace("\t", "")), repr(
        output[:400]
    )
    if coloured:
        assert OUR_SGR.search(output)


@pytest.mark.parametrize("coloured", [False, True], ids=["plain", "colour"])
@pytest.mark.parametrize(
    "command",
    [["diff", "h"], ["diff", "h", "--sentences"], ["diff", "h", "--full"], ["log", "h"], ["list"]],
    ids=["diff", "sentences", "full", "log", "list"],
)
def test_human_output_never_emits_control_characters(hostile: Cli, command: list[str], coloured: bool) -> None:
    args = [*command, "--color", "always" if coloured else "never"]
    result = hostile(*args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    if command[0] == "list":
        assert "\\x1b[2J" in out  # the headline's escape shown, visibly
    else:
        assert "\\x1b" in out
    assert_safe(out, coloured and command[0] != "list" or coloured)


@pytest.mark.parametrize("coloured", [False, True], ids=["plain", "colour"])
def test_a_tables_columns_stay_aligned_past_escaped_control_characters(hostile: Cli, coloured: bool) -> None:
    """Each cell is measured as printed (``\\x1b`` is four characters), so the column after it starts in line."""
    lines = OUR_SGR.sub("", hostile("log", "h", "--color", "always" if coloured else "never").stdout).splitlines()
    header, hostile_row = lines[1], next(line for line in lines if "\\x1b[2J" in line)
    assert hostile_row.index("* Headline") == header.index("headline")
    assert hostile_row.index("headline changed ·") == header.index("what changed"), "\n".join(lines)


@pytest.mark.parametrize("coloured", [False, True], ids=["plain", "colour"])
def test_rich_markup_in_articles_prints_literally(hostile: Cli, coloured: bool) -> None:
    out = hostile("diff", "h", "--full", "--color", "always" if coloured else "never").stdout
    plain = OUR_SGR.sub("", out)
    assert "[link=file:///etc/passwd]here[/link]" in plain
    assert "[bold red]loud[/]" in plain and "[bold red]alarm[/]" in plain
    assert ":smile:" in plain and "😄" not in plain
    assert "\x1b]8;" not in out  # no hyperlink escape of our own either


def test_json_escapes_control_characters(hostile: Cli) -> None:
    out = hostile("diff", "h", "--format", "json").stdout
    assert not RAW_CONTROL.search(out.replace("\n", ""))
    assert "\\u001b[2J" in out and "\\u009b" in out and "\\u202e" in out
    data = json.loads(out)
    assert data["to"]["title"] == HOSTILE_TITLE  # escaped in transit, exact once parsed
    shown = json.loads(hostile("show", "h", "--format", "json").stdout)
    assert shown["body"] == HOSTILE_BODY


def test_html_output_escapes_markup(hostile: Cli) -> None:
    out = hostile("diff", "h", "--format", "html").stdout
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "\x1b" not in out.replace("\\x1b", "")


def test_show_into_a_pipe_is_the_stored_text(hostile: Cli) -> None:
    out = hostile("show", "h").stdout
    assert out == HOSTILE_TITLE + "\n\n" + HOSTILE_BODY


def test_show_on_a_terminal_makes_control_characters_visible(hostile: Cli) -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "REVTRACK_STORE": str(hostile.store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "revtrack", "show", "h"], stdout=terminal, stderr=subprocess.PIPE, env=env
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    process.stderr.close()
    os.close(controller)
    out = b"".join(chunks).decode("utf-8")
    assert process.returncode == 0
    assert "\\x1b[2J" in out and "\\x07" in out and "\\x08" in out
    assert "\x1b" not in out and "\x07" not in out
