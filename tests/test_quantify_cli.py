"""``askscope classify --shares``: the real CLI on real posts whose share is known from their labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import run_cli, shared

from askscope.cli.classify import classify_command


def hate_sample(tmp_path: Path, hateful: int = 30, other: int = 170) -> tuple[Path, float]:
    """TweetEval hate val rows at a 15% prior (the set's own is 43%): the first ``hateful`` hateful
    and the first ``other`` other rows, in file order. Returns the file and the true share."""
    texts = shared("tweeteval", "hate", "val_text.txt").read_text(encoding="utf-8").split("\n")[:-1]
    labels = [int(x) for x in shared("tweeteval", "hate", "val_labels.txt").read_text().split()]
    pos = [t for t, y in zip(texts, labels) if y == 1][:hateful]
    neg = [t for t, y in zip(texts, labels) if y == 0][:other]
    path = tmp_path / "posts.txt"
    path.write_text("\n".join(neg[:100] + pos + neg[100:]) + "\n", encoding="utf-8")
    return path, hateful / (hateful + other)  # 30 / 200 = 0.15


def test_json_shares_on_real_posts(tmp_path: Path) -> None:
    path, truth = hate_sample(tmp_path)
    result = run_cli("classify", "--task", "hate", "--shares", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["task", "n", "method", "shares"]
    assert data["task"] == "hate" and data["n"] == 200
    names = CliRunner().invoke(classify_command, ["--task", "hate", "--format", "names", str(path)]).output.split()
    assert set(data["shares"]) == {"not-hate", "hate"} and set(names) <= set(data["shares"])
    for share in data["shares"].values():
        assert list(share) == ["estimate", "low", "high"]
        assert share["low"] <= share["estimate"] <= share["high"]
    assert (
        sum(s["estimate"] for s in data["shares"].values()) == 1.0
        or abs(sum(s["estimate"] for s in data["shares"].values()) - 1) < 1e-3
    )
    hate = data["shares"]["hate"]
    assert hate["low"] <= truth <= hate["high"]
    # the labels alone count many more hateful posts than there are (the decision was tuned where
    # 43% are hateful); the estimate is closer to the truth than the count
    counted = names.count("hate") / len(names)
    assert abs(hate["estimate"] - truth) < abs(counted - truth)


def test_text_output_and_seed(tmp_path: Path) -> None:
    path, _ = hate_sample(tmp_path)
    first = CliRunner().invoke(classify_command, ["--task", "hate", "--shares", str(path)])
    assert first.exit_code == 0, first.output
    lines = first.output.split("\n")
    assert lines[0].startswith("hate: 200 posts, ")
    assert lines[1].startswith("not-hate") and lines[2].startswith("hate")
    assert re.fullmatch(r"hate +\d+\.\d%  \(\d+\.\d-\d+\.\d%\)", lines[2]), lines[2]
    again = CliRunner().invoke(classify_command, ["--task", "hate", "--shares", str(path)])
    assert again.output == first.output  # seeded


def test_shares_user_errors(tmp_path: Path) -> None:
    path, _ = hate_sample(tmp_path, 3, 7)
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    cases = [
        (["--task", "hate", "--json", str(path)], "--json goes with --shares"),
        (["--task", "language", "--shares", str(path)], "no validation data"),
        (["--task", "all", "--shares", str(path)], "one task"),
        (["--task", "hate", "--shares", str(empty)], "no posts"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(classify_command, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith("Error: ") and message in result.output, result.output
