"""askscope demo: the README's first command, end to end with the bundled classifiers."""

from __future__ import annotations

import json

from conftest import run_cli


def test_demo_builds_a_non_trivial_report(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "BACKFIRE:" in proc.stdout and "ENGAGEMENT:" in proc.stdout
    doc = json.loads((out / "report.json").read_text())
    engagement = doc["lenses"]["engagement"]
    backfire = doc["lenses"]["backfire"]
    # the real thread: 102 replies, 21 of them by @Uber_Sydney answering repliers
    assert backfire["volume"]["audience_posts"] == 81 and backfire["volume"]["host_posts"] == 22
    assert engagement["answer_rate"]["k"] > 0 and engagement["answer_rate"]["n"] > engagement["answer_rate"]["k"]
    assert backfire["hostile_share"]["k"] > 0
    assert doc["hosts"][0]["handle"] == "Uber_Sydney" and doc["hosts"][0]["found"]
    assert doc["classifiers"]["discourse"]["labeler"] == "bundled"
    html = (out / "report.html").read_text()
    assert "<script" not in html.lower() and "Uber Sydney during the Sydney siege" in html
    assert (out / "report.md").read_text().startswith("# askscope report: Uber Sydney during the Sydney siege")
    # running it again gives the same numbers
    assert run_cli("demo", "-o", str(out)).returncode == 0
    assert json.loads((out / "report.json").read_text()) == doc
