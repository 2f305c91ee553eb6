"""askscope code: the real CLI on a real (simulated, analysed) campaign store: samples, imports in
spreadsheet dialects, refusals that change nothing, agreement against an independent α, and
validated estimates against the known truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from coding_helpers import build_campaign, coded, copy_store, read_sample, truth, write_dialect
from conftest import fixture, run_cli

from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.coding.codebook import CODEBOOK, codebook_markdown
from askscope.coding.estimates import estimate
from askscope.coding.importing import import_codes
from askscope.coding.sampling import allocate, draw_sample, write_sample
from askscope.lenses.validated import validated_shares
from askscope.store.core import open_store
from askscope.synthetic.campaign import CATEGORIES, SimulationSpec, campaign_file

DOCS = Path(__file__).parent.parent / "docs"


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> str:
    return build_campaign(tmp_path_factory.mktemp("coding") / "base.duckdb")


@pytest.fixture
def db(base_store, tmp_path) -> str:
    return copy_store(base_store, tmp_path)


def _codes(db: str) -> list[tuple]:
    with open_store(db, read_only=True) as store:
        tables = {r[0] for r in store.con.execute("SHOW TABLES").fetchall()}
        if "codes" not in tables:
            return []
        return store.con.execute(
            "SELECT platform, post_id, task, coder, code, coded_at, sample_id FROM codes ORDER BY ALL"
        ).fetchall()


def _sample(db: str, out: Path, *args: str) -> Path:
    """Draw a discourse sample with the real CLI."""
    proc = run_cli("code", "sample", db, "--task", "discourse", "-o", str(out), *args)
    assert proc.returncode == 0, proc.stderr
    return out


def _draw(db: str, out: Path, n: int, seed: int = 0, stratify_by: str | None = None) -> Path:
    """Draw a discourse sample with the library (the CLI's start-up is slow on a busy machine)."""
    with open_store(db) as store:
        write_sample(draw_sample(store, "discourse", n, seed, stratify_by), out)
    return out


def _import(db: str, path: Path, coder: str) -> None:
    with open_store(db) as store:
        import_codes(store, path, coder)


def test_sample_is_seeded_spreadsheet_safe_and_of_the_audience(db, tmp_path):
    first = _sample(db, tmp_path / "a.csv", "--n", "120", "--seed", "3")
    again = _sample(db, tmp_path / "b.csv", "--n", "120", "--seed", "3")
    other = _sample(db, tmp_path / "c.csv", "--n", "120", "--seed", "4")
    assert first.read_bytes() == again.read_bytes()  # same seed, same posts in the same order
    header, rows = read_sample(first)
    assert header[:9] == ["platform", "post_id", "url", "author", "created_at", "parent_text", "text", "code", "note"]
    assert "weight" in header and len(rows) == 120
    assert first.read_bytes().count(b"\r\n") >= 121
    ids = [r[1] for r in rows]
    assert len(set(ids)) == 120 and ids != sorted(ids)  # no repeats, shuffled for coding
    assert set(ids) != {r[1] for r in read_sample(other)[1]}
    with open_store(db, read_only=True) as store:
        audience = {
            r[0]
            for r in store.con.execute(
                "SELECT post_id FROM relations WHERE in_campaign AND relation <> 'host'"
            ).fetchall()
        }
        host = {r[0] for r in store.con.execute("SELECT post_id FROM relations WHERE relation = 'host'").fetchall()}
        stored = store.con.execute(
            "SELECT count(*), min(weight), max(weight), any_value(frame_size) "
            "FROM code_samples WHERE sample_id = 'discourse-srs-n120-seed3'"
        ).fetchall()[0]
    assert set(ids) <= audience and not set(ids) & host
    # a simple random sample: every post weighs frame size / n
    assert stored[0] == 120 and stored[1] == pytest.approx(len(audience) / 120) and stored[1] == stored[2]
    assert stored[3] == len(audience)
    # no cell starts a formula: '=', '+', '-', '@' are quoted with a leading apostrophe
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert any(c.startswith("'@") for c in cells)  # replies to the host start with its handle
    book = (tmp_path / "a.codebook.csv").read_bytes().decode("utf-8-sig")
    for label in CODEBOOK["discourse"].labels:
        assert label.name in book and label.definition in book


def test_stratified_sample_keeps_the_weights(db, tmp_path):
    out = _sample(db, tmp_path / "s.csv", "--n", "100", "--stratify-by", "label")
    header, rows = read_sample(out)
    with open_store(db, read_only=True) as store:
        sizes = dict(
            store.con.execute(
                "SELECT l.label, count(*) FROM relations r JOIN labels l ON l.platform = r.platform AND "
                "l.post_id = r.post_id AND l.task = 'discourse' WHERE r.in_campaign AND r.relation <> 'host' "
                "GROUP BY 1"
            ).fetchall()
        )
    drawn = {s: sum(1 for r in rows if r[header.index("stratum")] == s) for s in sizes}
    assert drawn == allocate(sizes, 100) and sum(drawn.values()) == 100
    for row in rows:
        stratum = row[header.index("stratum")]
        assert float(row[header.index("weight")]) == pytest.approx(sizes[stratum] / drawn[stratum], rel=1e-5)


def test_allocation_is_proportional_with_two_per_stratum():
    # 100 posts over strata of 700/200/95/5 (1,000 posts): quotas 70, 20, 9.5, 0.5. Rounded down,
    # with d raised to its floor of 2: 70 + 20 + 9 + 2 = 101, one too many. The stratum furthest
    # above its quota gives one back: a and b are 0 above, c is 0.5 below, d is at its floor; the
    # tie between a and b goes to the later name, b. Result: 70, 19, 9, 2.
    assert allocate({"a": 700, "b": 200, "c": 95, "d": 5}, 100) == {"a": 70, "b": 19, "c": 9, "d": 2}
    assert allocate({"a": 3, "b": 1}, 10) == {"a": 3, "b": 1}  # more asked than there are: all


def test_pseudonymised_sample_hides_authors_but_not_the_host(db, tmp_path):
    header, rows = read_sample(_sample(db, tmp_path / "p.csv", "--n", "60", "--pseudonymise"))
    authors = [r[header.index("author")] for r in rows]
    assert all(a.startswith("user") for a in authors)
    assert not any(r[header.index("url")] for r in rows)
    text = " ".join(r[header.index("text")] + r[header.index("parent_text")] for r in rows)
    assert "sim_user" not in text and "@SimHost" in text


def test_import_in_spreadsheet_dialects(db, tmp_path):
    sample = _draw(db, tmp_path / "s.csv", 50)
    header, rows = coded(sample, db)
    true = truth(db)
    post = header.index("post_id")
    excel_rows = [list(r) for r in rows]
    for r in excel_rows:  # Excel shows long ids as numbers and saves them rounded; the key survives
        r[post] = f"{float(r[post]):.5E}".replace("E+", "E+")
    dialects = {
        "excel-utf8": dict(rows=excel_rows),
        "excel-semicolon-ansi": dict(delimiter=";", encoding="cp1252"),
        "libreoffice": dict(encoding="utf-8", line_end="\n", quote_all=True),
        "unicode-text": dict(delimiter="\t", encoding="utf-16"),
        "old-mac": dict(encoding="utf-8", line_end="\r", quote_all=True),
    }
    for name, options in dialects.items():
        file = write_dialect(tmp_path / f"{name}.csv", header, options.pop("rows", rows), **options)
        if name == "excel-utf8":
            proc = run_cli("code", "import", db, str(file), "--coder", name)
            assert proc.returncode == 0, (name, proc.stderr)
            assert "excel-utf8: 50 discourse codes stored" in proc.stdout, proc.stdout
        else:
            with open_store(db) as store:
                assert import_codes(store, file, name).stored == 50, name
    stored = _codes(db)
    assert len(stored) == 50 * len(dialects)
    assert all(code == true[post_id] for _, post_id, _, _, code, _, _ in stored)


def test_bad_files_are_refused_with_their_lines_and_change_nothing(db, tmp_path):
    sample = _draw(db, tmp_path / "s.csv", 30)
    header, rows = coded(sample, db)
    ok = write_dialect(tmp_path / "ok.csv", header, rows)
    _import(db, ok, "ana")
    before = _codes(db)
    key, code, post = header.index("key"), header.index("code"), header.index("post_id")
    bad = [list(r) for r in rows]
    bad[3][key], bad[3][post] = "x:999", "999"  # line 5 (header is line 1): unknown post
    bad[5][code] = "sarcasm"  # line 7: not a discourse label
    bad.insert(8, list(bad[1]))  # line 10 repeats line 3
    with open_store(db, read_only=True) as store:  # a real post of the store, not in the sample
        outsider = store.con.execute(
            "SELECT id FROM posts WHERE id NOT IN (SELECT post_id FROM code_samples) LIMIT 1"
        ).fetchall()[0][0]
    bad[11][key], bad[11][post] = f"x:{outsider}", outsider  # spreadsheet row 13
    for row in bad[:12]:  # one line per row above it, so that lines and rows agree...
        row[header.index("text")] = row[header.index("text")].replace("\n", " ")
    bad[12][header.index("text")] = "two\nlines"  # ...until a cell with a line break
    bad[14][code] = "nonsense"  # spreadsheet row 16, starting on line 17
    file = write_dialect(tmp_path / "bad.csv", header, bad)
    proc = run_cli("code", "import", db, str(file), "--coder", "ana")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: bad.csv: 5 bad rows, nothing stored")
    assert "line 5: post x:999 is not in the store" in proc.stderr
    assert "line 7: code 'sarcasm' is not a discourse label" in proc.stderr
    assert "line 10: post " + bad[8][key] + " again (first on line 3): duplicate row" in proc.stderr
    assert f"line 13: post x:{outsider} is not in sample" in proc.stderr, proc.stderr
    assert "line 17 (spreadsheet row 16): code 'nonsense' is not a discourse label" in proc.stderr, proc.stderr
    assert "Hint:" in proc.stderr
    assert _codes(db) == before
    # a file without the needed columns
    (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
    proc = run_cli("code", "import", db, str(tmp_path / "nohead.csv"), "--coder", "ana")
    assert proc.returncode == 1 and "line 1: the header has no 'code' column" in proc.stderr
    assert _codes(db) == before


def test_reimport_replaces_only_that_coders_codes_and_empty_codes_are_not_coded(db, tmp_path):
    sample = _draw(db, tmp_path / "s.csv", 40)
    header, rows = coded(sample, db)
    write_dialect(tmp_path / "ana.csv", header, rows)
    write_dialect(tmp_path / "bo.csv", header, rows)
    _import(db, tmp_path / "ana.csv", "ana")
    _import(db, tmp_path / "bo.csv", "bo")
    bo_before = [r for r in _codes(db) if r[3] == "bo"]
    partial = [list(r) for r in rows]
    for r in partial[10:]:
        r[header.index("code")] = ""
    partial[0][header.index("code")] = partial[0][header.index("code")].upper() + "  "  # case and spaces
    write_dialect(tmp_path / "ana2.csv", header, partial)
    proc = run_cli("code", "import", db, str(tmp_path / "ana2.csv"), "--coder", "ana", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["stored"], result["skipped_empty"], result["replaced"]) == (10, 30, 40)
    after = _codes(db)
    assert [r for r in after if r[3] == "bo"] == bo_before
    ana = {r[1]: r[4] for r in after if r[3] == "ana"}
    assert len(ana) == 10 and ana[rows[0][1]] == rows[0][header.index("code")]


def _alpha_by_coincidences(units: list[list[str]]) -> float:
    """Krippendorff's nominal α from the coincidence matrix (Krippendorff 2004, ch. 11), written
    here independently of the package: o_ck = Σ_u (pairs c-k in u) / (m_u - 1), n_c = Σ_k o_ck,
    α = 1 - (n - 1) Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k."""
    values = sorted({v for u in units for v in u})
    o = {(c, k): 0.0 for c in values for k in values}
    for unit in units:
        if len(unit) < 2:
            continue
        for i, c in enumerate(unit):
            for j, k in enumerate(unit):
                if i != j:
                    o[(c, k)] += 1 / (len(unit) - 1)
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(n_c[c] * n_c[k] for c in values for k in values if c != k)
    return 1 - (n - 1) * observed / expected


def test_independent_alpha_on_a_hand_worked_case():
    # units (a,a), (a,b), (b,b), (b,b): o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8;
    # α = 1 - 7 * 2 / (2 * 3 * 5) = 1 - 14/30 = 0.5333
    assert _alpha_by_coincidences([["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]) == pytest.approx(8 / 15)


def test_agreement_alpha_matches_an_independent_computation(db, tmp_path):
    sample = _draw(db, tmp_path / "s.csv", 150)
    files = {}
    for coder, flip, seed in (("ana", 0.0, 0), ("bo", 0.2, 1), ("cy", 0.3, 2)):
        header, rows = coded(sample, db, flip=flip, seed=seed)
        if coder == "cy":  # a third coder who coded only the first 60 posts
            for r in rows[60:]:
                r[header.index("code")] = ""
        files[coder] = write_dialect(tmp_path / f"{coder}.csv", header, rows)
        _import(db, files[coder], coder)
    proc = run_cli(
        "code", "agreement", db, "--task", "discourse", "--json", "--disagreements", str(tmp_path / "dis.csv")
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    by_post: dict[str, list[str]] = {}
    for _, post_id, _, _, code, _, _ in _codes(db):
        by_post.setdefault(post_id, []).append(code)
    expected = _alpha_by_coincidences(list(by_post.values()))
    assert round(result["alpha"], 3) == round(expected, 3)
    low, high = result["alpha_interval"]
    assert low < result["alpha"] < high
    assert result["coders"] == ["ana", "bo", "cy"] and result["posts"] == 150 and result["pairable_posts"] == 150
    # per pair: agreement counted by hand from the stored codes
    ana = {r[1]: r[4] for r in _codes(db) if r[3] == "ana"}
    bo = {r[1]: r[4] for r in _codes(db) if r[3] == "bo"}
    pair = next(p for p in result["pairs"] if p["coders"] == ["ana", "bo"])
    assert pair["posts"] == 150 and pair["agreement"] == round(sum(ana[k] == bo[k] for k in ana) / 150, 4)
    assert np.array(pair["confusion"]["matrix"]).sum() == 150
    # the model against the consensus: ana is the truth; the simulated model is right about 80%
    model = result["model"]
    assert 0.6 < model["accuracy"] < 0.95 and sum(map(sum, model["confusion"]["matrix"])) == model["posts"]
    # disagreements: every post where the three coders' codes differ, for adjudication
    header, rows = read_sample(tmp_path / "dis.csv")
    disagreed = {k for k, v in by_post.items() if len(set(v)) > 1}
    assert {r[header.index("post_id")] for r in rows} == disagreed and result["disagreements"] == len(disagreed)
    assert {"code_ana", "code_bo", "code_cy"} <= set(header)
    # the adjudicator settles them: fill 'code' with the truth and import
    true = truth(db)
    for r in rows:
        r[header.index("code")] = true[r[header.index("post_id")]]
    write_dialect(tmp_path / "adj.csv", header, rows)
    proc = run_cli("code", "import", db, str(tmp_path / "adj.csv"), "--coder", "adjudication")
    assert proc.returncode == 0, proc.stderr
    again = json.loads(run_cli("code", "agreement", db, "--task", "discourse", "--json").stdout)
    assert again["alpha"] == result["alpha"] and again["ties"] == 0  # the adjudicator is not a coder


def test_estimate_covers_the_truth_and_beats_the_coded_sample(db, tmp_path):
    sample = _sample(db, tmp_path / "s.csv", "--n", "300", "--seed", "11")
    header, rows = coded(sample, db)
    write_dialect(tmp_path / "ana.csv", header, rows)
    with open_store(db, read_only=True) as store:
        assert validated_shares(store) is None  # a sample, but no codes yet
    assert run_cli("code", "import", db, str(tmp_path / "ana.csv"), "--coder", "ana").returncode == 0
    proc = run_cli("code", "estimate", db, "--task", "discourse", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) == {"task", "n_coded", "n_total", "shares"}
    with open_store(db, read_only=True) as store:
        frame = store.con.execute(
            "SELECT t.category, l.label FROM relations r JOIN sim_truth t ON t.post_id = r.post_id "
            "JOIN labels l ON l.post_id = r.post_id AND l.task = 'discourse' "
            "WHERE r.in_campaign AND r.relation <> 'host'"
        ).fetchall()
    assert result["task"] == "discourse" and result["n_coded"] == 300 and result["n_total"] == len(frame)
    assert set(result["shares"]) == set(CATEGORIES)
    narrower = 0
    for label, kinds in result["shares"].items():
        assert set(kinds) == {"ppi", "coded_only", "model_only"}
        true_share = sum(t == label for t, _ in frame) / len(frame)
        model_share = sum(m == label for _, m in frame) / len(frame)
        ppi = kinds["ppi"]
        assert ppi["low"] <= true_share <= ppi["high"], (label, true_share, ppi)
        assert kinds["model_only"]["estimate"] == pytest.approx(model_share, abs=1e-6)
        narrower += (ppi["high"] - ppi["low"]) < (kinds["coded_only"]["high"] - kinds["coded_only"]["low"])
    assert narrower == len(CATEGORIES)
    # what the lenses get: the same shares, the hostile share estimated as one, and the basis
    with open_store(db, read_only=True) as store:
        validated = validated_shares(store)
    assert validated is not None and validated["basis"] == "validated against 300 hand-coded posts (1 coder)"
    assert validated["shares"]["mockery"] == result["shares"]["mockery"] and validated["alpha"] is None
    hostile_truth = sum(t in ("question_critical", "mockery", "abuse") for t, _ in frame) / len(frame)
    hostile = validated["shares"]["hostile"]["ppi"]
    assert hostile["low"] <= hostile_truth <= hostile["high"]
    # the lenses stage puts them in its results (and so in the report's JSON)
    analyze(
        db, parse_campaign(campaign_file(SimulationSpec(seed=7, posts=2000))), only=["lenses"], settings={"seed": 7}
    )
    with open_store(db, read_only=True) as store:
        lenses = json.loads(store.con.execute("SELECT results FROM lens_results").fetchall()[0][0])
    assert lenses["validation"] == json.loads(json.dumps(validated))
    # and the backfire lens uses them: each share carries its validated (prediction-powered) value
    backfire = lenses["backfire"]
    for share, name in (
        (backfire["hostile_share"], "hostile"),
        (backfire["mockery_share"], "mockery"),
        *((backfire["category_shares"][c], c) for c in CATEGORIES),
    ):
        ppi = validated["shares"][name]["ppi"]
        assert share["validated"]["value"] == pytest.approx(ppi["estimate"])
        assert share["validated"]["ci"] == pytest.approx([ppi["low"], ppi["high"]])
        assert share["validated"]["basis"] == validated["basis"]
    # the report states the basis and shows the three estimates side by side, in HTML and Markdown
    from askscope.reports import report
    from askscope.reports.verdicts import pct

    mock = validated["shares"]["mockery"]
    row = " | ".join(
        f"{pct(mock[k]['estimate'])} | {pct(mock[k]['low'])}–{pct(mock[k]['high'])}"
        for k in ("ppi", "coded_only", "model_only")
    )
    markdown = report(db, format="md")
    assert f"| mockery | {row} |" in markdown
    assert "validated against 300 hand-coded posts (1 coder)" in markdown
    html = report(db, format="html")
    assert "Validated against human coding" in html and f'<td class="num">{pct(mock["ppi"]["estimate"])}</td>' in html
    text = run_cli("code", "estimate", db, "--task", "discourse")
    assert text.returncode == 0 and "prediction-powered" in text.stdout and "300 coded of" in text.stdout


def test_stratified_estimate_covers_the_truth(db, tmp_path):
    sample = _draw(db, tmp_path / "s.csv", 240, 5, "label")
    header, rows = coded(sample, db)
    _import(db, write_dialect(tmp_path / "ana.csv", header, rows), "ana")
    with open_store(db, read_only=True) as store:
        result = estimate(store, "discourse").as_json()
    true = truth(db)
    with open_store(db, read_only=True) as store:
        audience = [
            r[0]
            for r in store.con.execute(
                "SELECT post_id FROM relations WHERE in_campaign AND relation <> 'host'"
            ).fetchall()
        ]
    for label, kinds in result["shares"].items():
        share = sum(true[p] == label for p in audience) / len(audience)
        assert kinds["ppi"]["low"] <= share <= kinds["ppi"]["high"], label


def test_user_errors_exit_1_with_a_hint(db, tmp_path):
    cases = [
        # no sample yet
        (("code", "estimate", db, "--task", "discourse"), "has no coded sample"),
        (("code", "import", db, str(tmp_path / "none.csv"), "--coder", "ana"), "cannot read"),
        (("code", "agreement", db, "--task", "irony"), "has no codes yet"),
        # language has an open label set: not codable
        (("code", "sample", db, "--task", "language", "-o", str(tmp_path / "l.csv")), "Invalid value for '--task'"),
        (("code", "sample", db, "--task", "discourse", "-o", str(tmp_path / "no" / "s.csv")), "does not exist"),
    ]
    for args, message in cases:
        proc = run_cli(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert message in proc.stderr and "Hint:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    empty = tmp_path / "empty.duckdb"  # posts, but never analysed
    assert run_cli("ingest", str(empty), fixture("x-v2", "two_tweets.jsonl")).returncode == 0
    proc = run_cli("code", "sample", str(empty), "--task", "discourse", "-o", str(tmp_path / "s.csv"))
    assert proc.returncode == 1 and "askscope analyze" in proc.stderr


def test_docs_document_every_coding_column():
    from askscope.coding.tables import CODING_TABLES

    text = (DOCS / "coding.md").read_text()
    for table, columns in CODING_TABLES.items():
        section = text.split(f"### {table}", 1)[1].split("\n#", 1)[0]
        for column in columns:
            assert f"`{column}`" in section, (table, column)


def test_codebook_labels_are_the_models_labels():
    # the codes of every task must be exactly the labels the model gives (same names, same order:
    # the order of labels.probabilities), or codes and predictions could not be compared
    import askscope.classify as models

    for task, entry in CODEBOOK.items():
        assert list(entry.label_names) == list(models.model_info(task)["labels"]), task
    assert "language" not in CODEBOOK  # open label set: not codable


def test_docs_codebook_is_generated_from_the_code():
    assert (DOCS / "codebook.md").read_text() == codebook_markdown()


def test_docs_cover_every_code_subcommand_and_option():
    from askscope import registry

    text = (DOCS / "cli.md").read_text()
    group = registry.commands()["code"]
    for name, command in group.commands.items():
        assert f"### code {name}" in text, name
        assert command.help and len(command.help) > 40
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, (name, param.opts)
                assert any(flag in text for flag in param.opts if flag.startswith("--")), (name, param.opts)


def test_estimate_uses_the_stored_class_probabilities_as_ppi_python_would(db, tmp_path):
    # The classify stage may store every class's probability (labels.probabilities); PPI then uses
    # them as the prediction. Give every post 0.75 on its label and 0.05 on each other class, code a
    # sample with the truth, and compare with ppi-python fed the same arrays.
    from ppi_py import ppi_mean_ci

    with open_store(db) as store:
        columns = {
            r[0]
            for r in store.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'labels'"
            ).fetchall()
        }
        if "probabilities" not in columns:
            store.con.execute("ALTER TABLE labels ADD COLUMN probabilities FLOAT[]")
        store.con.execute(
            "UPDATE labels SET probabilities = list_transform($labels, lambda c: CASE WHEN c = label THEN 0.75 ELSE 0.05 END)"
            "::FLOAT[] WHERE task = 'discourse'",
            {"labels": list(CATEGORIES)},
        )
    sample = _draw(db, tmp_path / "s.csv", 200, seed=9)
    header, rows = coded(sample, db)
    _import(db, write_dialect(tmp_path / "ana.csv", header, rows), "ana")
    true = truth(db)
    with open_store(db, read_only=True) as store:
        result = estimate(store, "discourse")
        frame = store.con.execute(
            "SELECT r.post_id, l.label FROM relations r JOIN labels l ON l.post_id = r.post_id AND "
            "l.task = 'discourse' WHERE r.in_campaign AND r.relation <> 'host' ORDER BY r.post_id"
        ).fetchall()
    coded_ids = [r[header.index("post_id")] for r in rows]
    model = dict(frame)
    for label in CATEGORIES:
        probability = {p: 0.75 if m == label else 0.05 for p, m in frame}
        y = np.array([true[p] == label for p in sorted(coded_ids)], dtype=float)
        yhat = np.array([probability[p] for p in sorted(coded_ids)])
        yhat_all = np.array([probability[p] for p, _ in frame])
        low, high = ppi_mean_ci(y, yhat, yhat_all, alpha=0.05)
        ours = result.shares[label]["ppi"]
        assert (ours.low, ours.high) == pytest.approx((max(0.0, float(low[0])), min(1.0, float(high[0]))), abs=1e-6)
        # model-only stays classify-and-count
        assert ours is not result.shares[label]["model_only"]
        assert result.shares[label]["model_only"].estimate == pytest.approx(
            sum(m == label for m in model.values()) / len(model)
        )
