"""The ``askscope classify`` click command, driven on real files (click's runner and a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from askscope.cli.classify import classify_command

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EMOTION = DATA / "tweeteval" / "emotion" / "val_text.txt"


def sample(tmp_path: Path, n: int = 25) -> Path:
    """The first n lines of a real TweetEval file, in its own format (one post per line)."""
    path = tmp_path / "posts.txt"
    path.write_text("\n".join(EMOTION.read_text(encoding="utf-8").split("\n")[:n]) + "\n", encoding="utf-8")
    return path


def test_labels_one_line_per_input_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(classify_command, ["--task", "emotion", str(sample(tmp_path))])
    assert result.exit_code == 0, result.output
    out = result.output.split("\n")
    assert out[-1] == "" and len(out) == 26
    assert set(out[:-1]) <= {"0", "1", "2", "3"}


def test_names_from_stdin_keeps_empty_lines() -> None:
    posts = "I love this so much!\n\n@user why would you do that?\n"
    result = CliRunner().invoke(classify_command, ["--task", "sentiment", "--format", "names", "-"], input=posts)
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")[:-1]
    assert len(lines) == 3 and lines[0] == "positive"
    assert all(line in {"negative", "neutral", "positive"} for line in lines)


def test_all_tasks_jsonl_to_output_file(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        classify_command, ["--task", "all", "--format", "jsonl", str(sample(tmp_path, 5)), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 5
    assert list(records[0]) == [
        "sentiment",
        "irony",
        "offensive",
        "hate",
        "emotion",
        "question",
        "language",
        "discourse",
    ]
    sentiment = records[0]["sentiment"]
    assert set(sentiment["probabilities"]) == {"negative", "neutral", "positive"}
    assert abs(sum(sentiment["probabilities"].values()) - 1) < 1e-4
    assert sentiment["name"] == ["negative", "neutral", "positive"][sentiment["label"]]


def test_unknown_task_is_a_user_error() -> None:
    result = CliRunner().invoke(classify_command, ["--task", "toxicity", "-"], input="hello\n")
    assert result.exit_code == 1
    assert "Error: unknown task 'toxicity'" in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_a_user_error_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "askscope", "classify", "--task", "hate", str(tmp_path / "nope.txt")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot read") and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_real_process_pipes_stdin_to_stdout(tmp_path: Path) -> None:
    posts = sample(tmp_path, 8).read_text(encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "askscope", "classify", "--task", "hate"],
        input=posts,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.count("\n") == 8 and set(done.stdout.split()) <= {"0", "1"}


def test_help_text() -> None:
    result = CliRunner().invoke(classify_command, ["--help"])
    assert result.exit_code == 0 and "one per line" in result.output
