"""A database that cannot be reached or opened is one line on stderr and exit 1, not a traceback;
messages that name a command name one that exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attain.cli import main as cli_main
from attain.facts.rollups import rollup_note

ATTAIN = [sys.executable, "-m", "attain.cli.main"]
UNREACHABLE_PG = "postgresql://nobody:hunter22@127.0.0.1:1/none?connect_timeout=5"


def _run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["attain", *args])
    with pytest.raises(SystemExit) as stopped:
        cli_main.main()
    return int(stopped.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("command", [["status"], ["rollups"], ["init"], ["user", "list"], ["plan", "list"]])
def test_unreachable_postgresql_is_one_line(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_main(monkeypatch, capsys, *command, "--db", UNREACHABLE_PG)
    assert code == 1
    assert err.strip().count("\n") == 0, err
    assert err.startswith("error: cannot use the database postgresql://nobody:***@127.0.0.1:1/none")
    assert "Connection refused" in err or "failed" in err
    assert "Traceback" not in err and "hunter22" not in err


@pytest.mark.parametrize("command", [["status"], ["init"], ["rollups"]])
def test_sqlite_file_in_a_missing_folder_is_one_line(command: list[str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-folder" / "deeper"
    code, err = _run_main(monkeypatch, capsys, *command, f"--db=sqlite:///{missing / 'a.db'}")
    assert code == 1
    assert err.strip() == f"error: cannot use the database sqlite:///{missing / 'a.db'}: the folder {missing} does not exist"


def test_the_real_command_prints_no_traceback(tmp_path: Path) -> None:
    """As a user runs it (the installed entry point, a fresh interpreter)."""
    done = subprocess.run([*ATTAIN, "status", "--db", UNREACHABLE_PG], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_rollup_notes_name_a_command_that_exists(database_url: str) -> None:
    """`attain rollups rebuild` did not exist; every command a note names must run."""
    notes = [rollup_note(None, 10), rollup_note(3, 10)]
    commands = {c for note in notes for c in re.findall(r"`attain ([^`]+)`", note)}
    assert commands == {"rollups --rebuild"}
    for command in commands:
        result = CliRunner().invoke(cli_main.app, [*command.split(), "--db", database_url])
        assert result.exit_code == 0, result.output
        assert "Rebuilt in" in result.stdout
