"""What a new user trips over in the first hour (issue 16): each test failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from test_report import _xss_store

from askscope.campaign import load_campaign


def test_init_template_names_the_file_it_writes(tmp_path):
    # `askscope init AskUber` writes AskUber.toml, so its "check it with" line must say AskUber.toml
    # (it said askuber.toml, a file that does not exist on a case-sensitive file system).
    proc = run_cli("init", "AskUber", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "AskUber.toml"
    assert "--campaign AskUber.toml" in written.read_text().splitlines()[1]
    assert load_campaign(written).name == "AskUber"
    other = tmp_path / "sub.toml"
    assert run_cli("init", "AskUber", "-o", str(other)).returncode == 0
    assert f"--campaign {other}" in other.read_text().splitlines()[1]


def test_report_without_output_writes_a_file_not_the_terminal(tmp_path):
    db = _xss_store(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    proc = run_cli("report", db, cwd=str(work))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    written = work / "report.html"
    assert written.read_text().lstrip().lower().startswith("<!doctype html>")
    assert str(written.resolve()) in proc.stderr
    # the format picks the default file's extension
    proc = run_cli("report", db, "--format", "json", cwd=str(work))
    assert proc.returncode == 0, proc.stderr
    assert "lenses" in json.loads((work / "report.json").read_text())
    # `-o -` still writes to standard output
    proc = run_cli("report", db, "--format", "md", "-o", "-", cwd=str(work))
    assert proc.returncode == 0 and proc.stdout.startswith("#")
    assert not Path(work / "report.md").exists()
