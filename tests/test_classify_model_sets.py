"""The bundled model sets (``askscope.classify.models``): ``default`` and ``fast``.

``fast`` is a 3-layer student of the default encoder with every calibration, head and validation
set refitted on its own outputs (docs/classify.md, "Model sets"). Which set the loaders read is a
context (``models.use``), so the two labelers ``bundled`` and ``bundled-fast`` can label side by
side in one process, and a worker process or Dask worker loads the set of the labeler it is
named. Everything here runs the real models on real posts:

* the fast set's stored validation outputs come out again from its models (so its shares are
  corrected with what its models do), and they are not the default set's;
* labelling with one set never leaks into the other, in one thread or in two at once;
* ``askscope analyze --labeler bundled-fast`` writes labels marked ``askscope-fast-...``, the
  same in two worker processes as in one, with the fast set's validation referenced in
  ``label_models``, and ``askscope classify --models fast`` labels with the student.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from conftest import run_cli, shared

from askscope.classify import models
from askscope.classify.quantify import load_validation, model_digest, validation_from_record
from askscope.stages.labeling import BUNDLED_SETS, get_labeler, validation_record
from askscope.vocabulary import TASKS

POSTS = [
    "Why won't you answer the question about the tunnels?",
    "lol what a joke #AskX",
    "Thank you for doing this, very informative",
    "You are all murderers and liars",
    "Can you explain where the aid money goes?",
    "Great session, learned a lot",
    "@user http://t.co/x is this even real",
    "Ni una palabra sobre los rehenes. Vergüenza.",
]

CAMPAIGN = """
name = "Brexit and K-pop"
hosts = ["itsLIVEofficial"]
hashtags = ["brexit", "kpop", "lisa"]
start = 2021-06-01T00:00:00Z
end = 2021-09-30T00:00:00Z

[frames.music]
keywords = ["album"]
examples = ["the new album is out and the concert tour starts next week"]
"""


def _label(name: str, texts: list[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    out = get_labeler(name).label(texts, [("x", str(i)) for i in range(len(texts))])
    return {task: (list(names), np.asarray(chosen, dtype=np.float64)) for task, (names, chosen, *_) in out.items()}


def test_the_fast_set_is_its_own_encoder_and_cards() -> None:
    fast, default = models.SETS["fast"], models.SETS["default"]
    assert json.loads((fast / "encoder.json").read_text())["layers"] == 3
    assert json.loads((default / "encoder.json").read_text()).get("layers", 6) == 6  # the original
    assert (fast / "encoder.onnx").read_bytes() != (default / "encoder.onnx").read_bytes()
    # what the set does not hold is the default set's file
    assert not (fast / "tokenizer.json").exists()
    assert models.path("tokenizer.json", "fast") == default / "tokenizer.json"
    assert models.path("encoder.onnx", "fast") == fast / "encoder.onnx"
    with models.use("fast"):
        assert models.active() == "fast"
        assert models.card("question")["model_set"] == "fast"
        assert "3-layer student" in models.card("question")["model"]["kind"]
    assert models.active() == "default"
    assert "model_set" not in models.card("question")


def test_use_is_restored_after_an_error_and_refuses_unknown_sets() -> None:
    with pytest.raises(RuntimeError), models.use("fast"):
        raise RuntimeError("inside")
    assert models.active() == "default"
    with pytest.raises(ValueError, match="unknown model set 'slow'"), models.use("slow"):
        pass  # pragma: no cover - never reached


@pytest.mark.parametrize("task", ["question", "hate", "sentiment"])
def test_the_fast_sets_validation_outputs_come_from_its_models(task: str) -> None:
    # the shares of a campaign labelled with bundled-fast are corrected with these rows: they
    # must be what the fast models give the validation posts (float kernels differ between CPUs:
    # not to the bit; see tests/test_classify_exact_int8.py), and not what the default set gives
    from askscope.classify import classify
    from training.quantify_data import validation_sources

    texts = [t for _, split in validation_sources(shared(), task) for t in split.texts]
    folder = models.SETS["fast"] / "validation"
    sidecar = json.loads((folder / f"{task}.json").read_text(encoding="utf-8"))
    assert hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest() == sidecar["texts_sha256"]
    assert sidecar["model_sha256"] == model_digest(task, models.SETS["fast"])
    stored = np.load(folder / f"{task}.npz")["probabilities"].astype(np.float64)
    with models.use("fast"):
        fast = np.asarray(classify(texts, [task])[task].probabilities, dtype=np.float64)
        assert np.array_equal(load_validation(task).probabilities, stored)  # type: ignore[union-attr]
    default = np.asarray(classify(texts, [task])[task].probabilities, dtype=np.float64)
    assert np.abs(fast - stored).mean() < 1e-3
    assert np.abs(default - stored).mean() > 10 * np.abs(fast - stored).mean()


def test_labelling_with_one_set_never_leaks_into_the_other() -> None:
    alone = {name: _label(name, POSTS) for name in ("bundled", "bundled-fast")}
    # the student gives other probabilities than the teacher on these posts
    assert any(not np.allclose(alone["bundled"][t][1], alone["bundled-fast"][t][1]) for t in TASKS)
    # sequential, in the other order, and in two threads at once: each labeler its own set
    again = {name: _label(name, POSTS) for name in ("bundled-fast", "bundled")}
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(_label, name, POSTS) for name in ("bundled", "bundled-fast", "bundled")}
        threaded = {name: future.result() for name, future in futures.items()}
    for name in ("bundled", "bundled-fast"):
        for task in TASKS:
            assert again[name][task][0] == alone[name][task][0], (name, task)
            np.testing.assert_array_equal(again[name][task][1], alone[name][task][1])
            assert threaded[name][task][0] == alone[name][task][0], (name, task)
            np.testing.assert_array_equal(threaded[name][task][1], alone[name][task][1])
    assert models.active() == "default"


def test_each_labeler_names_its_set_in_its_versions_and_validation() -> None:
    default, fast = get_labeler("bundled"), get_labeler("bundled-fast")
    assert BUNDLED_SETS == {"bundled": "default", "bundled-fast": "fast"}
    assert all(v.startswith(f"askscope-{t}@") for t, v in default.versions().items())
    assert all(v.startswith(f"askscope-fast-{t}@") for t, v in fast.versions().items())
    validation = fast.validation()
    for task, data in validation.items():
        record = json.loads(json.dumps(validation_record(data, True, "fast")))
        assert record["package"] == f"askscope/classify/models_fast/validation/{task}.npz"
        back = validation_from_record(task, record)
        assert back is not None and back.probabilities is not None
        np.testing.assert_array_equal(back.probabilities, data.probabilities)
        plain = validation_from_record(task, json.loads(json.dumps(validation_record(data, True))))
        assert plain is not None and plain.probabilities is not None
        assert not np.array_equal(plain.probabilities, data.probabilities), task
    # a record naming a set this package does not have is not read as another set's data
    assert validation_from_record("question", {"package": "x", "model_set": "gone", "labels": []}) is None


def _analyze(store: Path, campaign: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "askscope", "analyze", str(store), "--campaign", str(campaign), *extra],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONIOENCODING="utf-8", **env),
        timeout=600,
    )


def _labels(store: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(
            "SELECT platform, post_id, task, label, probability, model FROM labels ORDER BY platform, post_id, task"
        ).fetchall()


def test_analyze_with_the_fast_labeler_in_one_and_in_two_processes(tmp_path: Path) -> None:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(CAMPAIGN)
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    stores = {}
    for name, processes, labeler in (("one", "1", "bundled-fast"), ("two", "2", "bundled-fast"), ("d", "1", "bundled")):
        stores[name] = tmp_path / f"{name}.duckdb"
        assert run_cli("ingest", str(stores[name]), *inputs).returncode == 0
        proc = _analyze(stores[name], campaign, "--labeler", labeler, ASKSCOPE_CLASSIFY_PROCESSES=processes)
        assert proc.returncode == 0, proc.stderr
    one, two, default = (_labels(stores[n]) for n in ("one", "two", "d"))
    assert len(one) == 8 * 111
    assert {m.split("@")[0] for *_, m in one} == {f"askscope-fast-{t}" for t in TASKS}
    # the worker processes loaded the fast set by the labeler's name: the same rows
    assert two == one
    # ... which are not the default set's (the same posts and tasks, other probabilities)
    assert [r[:3] for r in default] == [r[:3] for r in one]
    assert [r[4] for r in default] != [r[4] for r in one]
    with duckdb.connect(str(stores["one"]), read_only=True) as con:
        rows = con.execute("SELECT task, labeler, validation FROM label_models WHERE validation IS NOT NULL").fetchall()
    assert {labeler for _, labeler, _ in rows} == {"bundled-fast"}
    assert {json.loads(v)["model_set"] for *_, v in rows} == {"fast"}
    # the frames' vectors are the fast set's encoder's too (each post's similarity recomputed here)
    from askscope.campaign import load_campaign
    from askscope.classify.frames import BundledEmbedder, calibrate

    frames = {}
    for name in stores:
        with duckdb.connect(str(stores[name]), read_only=True) as con:
            embedder = con.execute("SELECT DISTINCT embedder FROM frame_calibration").fetchall()
            scores = con.execute(
                "SELECT f.post_id, f.similarity, coalesce(p.text, '') FROM frame_scores f "
                "JOIN posts p ON p.platform = f.platform AND p.id = f.post_id ORDER BY f.platform, f.post_id"
            ).fetchall()
        frames[name] = (embedder, scores)
    assert frames["one"][0] == frames["two"][0] == [("bundled sentence encoder (fast set)",)]
    assert frames["d"][0] == [("bundled sentence encoder",)]
    assert frames["one"][1] == frames["two"][1] and len(frames["one"][1]) > 50
    fast_encoder = BundledEmbedder("fast")
    (music,) = calibrate(load_campaign(campaign).frames, fast_encoder)
    for _, similarity, text in frames["one"][1][:20]:
        expected = float(fast_encoder.embed([text])[0].astype(np.float64) @ music.centroid.astype(np.float64))
        assert similarity == pytest.approx(expected, abs=1e-6)
    assert [r[1] for r in frames["d"][1]] != [r[1] for r in frames["one"][1]]
    report = run_cli("report", str(stores["one"]), "--format", "json", "--output", "-")
    assert report.returncode == 0, report.stderr
    classifiers = json.loads(report.stdout)["classifiers"]
    assert classifiers["question"]["model"].startswith("askscope-fast-question@")
    assert classifiers["question"]["labeler"] == "bundled-fast"
    # the figures shown beside it are the fast set's card's, not the default set's
    with models.use("fast"):
        fast_card = models.card("question")["validation"]
    assert fast_card != models.card("question")["validation"]
    shown = classifiers["question"].get("validation", {})
    assert shown and all(fast_card[k] == v for k, v in shown.items())


def test_the_classify_command_takes_the_model_set(tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text("\n".join(POSTS) + "\n", encoding="utf-8")
    outputs = {}
    for model_set in ("default", "fast"):
        proc = run_cli("classify", "--task", "all", "--format", "jsonl", "--models", model_set, str(posts))
        assert proc.returncode == 0, proc.stderr
        outputs[model_set] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(outputs["fast"]) == len(POSTS)
    assert outputs["fast"] != outputs["default"]
    with models.use("fast"):
        expected = _label("bundled-fast", POSTS)
    for i, row in enumerate(outputs["fast"]):
        assert row["question"]["name"] == expected["question"][0][i]
    bad = run_cli("classify", "--task", "question", "--models", "slow", str(posts))
    assert bad.returncode != 0 and "slow" in bad.stderr


def test_a_dask_worker_labels_with_the_set_of_the_labeler_it_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # the archive's classify tasks name the labeler; one worker process may run both kinds
    from askscope.archive import dask_analyze

    monkeypatch.setattr(dask_analyze, "_LOADED", {})
    keys = [("x", str(i)) for i in range(len(POSTS))]
    for name in ("bundled-fast", "bundled", "bundled-fast"):
        got = dask_analyze.label_chunk(name, POSTS, keys)
        expected = _label(name, POSTS)
        for task in TASKS:
            assert list(got[task][0]) == expected[task][0], (name, task)
            np.testing.assert_array_equal(np.asarray(got[task][1], dtype=np.float64), expected[task][1])
    assert set(dask_analyze._LOADED) == {"bundled", "bundled-fast"}
