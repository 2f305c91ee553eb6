"""Coding in the browser: the library under the pages (a code written from the browser is what
``askscope code import`` stores for the same file), resuming, the checks, a busy store; the
pages through the app; and a sample coded in Chromium with the keyboard until the validated
estimate appears."""

from __future__ import annotations

import subprocess
import sys

import pytest
from coding_helpers import write_dialect
from web_campaigns import copy_of
from web_server import chromium, needs_browser, served

import askscope
from askscope.coding import agreement, draw_sample, estimate, import_codes, write_sample
from askscope.coding.codebook import get_task
from askscope.coding.tables import CodingError
from askscope.errors import StoreBusyError
from askscope.web.app import create_app
from askscope.web.coding import item, next_uncoded, sample_task, samples, write_code, writing

LABELS = get_task("discourse").label_names

WRITER = """
import sys, askscope
store = askscope.open_store(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
store.close()
"""


def _codes(db: str) -> list[tuple]:
    with askscope.open_store(db, read_only=True) as store:
        return store.con.execute(
            "SELECT platform, post_id, task, coder, code, sample_id FROM codes ORDER BY ALL"
        ).fetchall()


def _model_labels(db: str) -> dict[str, str]:
    with askscope.open_store(db, read_only=True) as store:
        return dict(store.con.execute("SELECT post_id, label FROM labels WHERE task = 'discourse'").fetchall())


def _two_copies(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    browser = copy_of("uber", tmp_path / "a")
    imported = copy_of("uber", tmp_path / "b")
    for db in (browser, imported):
        with askscope.open_store(db) as store:
            sample = draw_sample(store, "discourse", n=20, seed=1)
    return browser, imported, sample


def _coding(labels: dict[str, str], rows: list[dict], flip_every: int = 0) -> list[str]:
    """A coder's codes of the sample rows: the model's label, every ``flip_every``-th replaced
    by the next label of the codebook (planted disagreements)."""
    out = []
    for i, row in enumerate(rows, start=1):
        code = labels[row["post_id"]]
        if flip_every and i % flip_every == 0:
            code = LABELS[(LABELS.index(code) + 1) % len(LABELS)]
        out.append(code)
    return out


def test_codes_written_in_the_browser_equal_an_import_of_the_same_codes(tmp_path):
    browser, imported, sample = _two_copies(tmp_path)
    labels = _model_labels(browser)
    ana = _coding(labels, sample.rows)
    bo = _coding(labels, sample.rows, flip_every=4)
    # the browser way: one post at a time, by row of the sample file (bo codes in mixed case)
    with writing(browser) as store:
        for row, (a, b) in enumerate(zip(ana, bo), start=1):
            write_code(store, sample.sample_id, row, "ana", a)
            write_code(store, sample.sample_id, row, " bo ", b.upper(), note="unsure" if row == 3 else "")
    # the spreadsheet way: each coder's filled-in sample file, imported
    path = tmp_path / "sample.csv"
    write_sample(sample, path)
    header = list(sample.rows[0])
    for coder, codes in (("ana", ana), ("bo", bo)):
        rows = [[row[c] for c in header] for row in sample.rows]
        for row, code in zip(rows, codes):
            row[header.index("code")] = code
        with askscope.open_store(imported) as store:
            import_codes(store, write_dialect(tmp_path / f"{coder}.csv", header, rows), coder=coder)
    assert _codes(browser) == _codes(imported)
    assert len(_codes(browser)) == 40
    with askscope.open_store(browser, read_only=True) as a, askscope.open_store(imported, read_only=True) as b:
        # the same codes give the same agreement and the same validated estimates
        assert agreement(a, "discourse", bootstrap=50).as_dict() == agreement(b, "discourse", bootstrap=50).as_dict()
        assert estimate(a, "discourse").as_json() == estimate(b, "discourse").as_json()
        # 5 of 20 posts flipped (rows 4, 8, 12, 16, 20): raw agreement 15/20
        pair = agreement(a, "discourse", bootstrap=0).pairs[0]
        assert pair["coders"] == ["ana", "bo"] and pair["agreement"] == 0.75
        assert a.con.execute("SELECT coder, note FROM code_notes").fetchall() == [("bo", "unsure")]


def test_recoding_replaces_and_resume_finds_the_next_uncoded_post(tmp_path):
    browser, _, sample = _two_copies(tmp_path)
    with writing(browser) as store:
        for row in (1, 2, 4):
            write_code(store, sample.sample_id, row, "ana", "other")
        write_code(store, sample.sample_id, 2, "ana", "support", note="changed my mind")
        con = store.con
        # rows 1, 2, 4 coded: the next after 0 is 3, after 3 it is 5; another coder starts at 1
        assert next_uncoded(con, sample.sample_id, "ana") == 3
        assert next_uncoded(con, sample.sample_id, "ana", after=3) == 5
        assert next_uncoded(con, sample.sample_id, "bo") == 1
        seen = item(con, sample.sample_id, 2, "ana")
        assert (seen.code, seen.note, seen.coded_by_coder, seen.next_uncoded) == ("support", "changed my mind", 3, 3)
        assert seen.post_id == sample.rows[1]["post_id"] and seen.text == sample.rows[1]["text"]
        assert seen.parent_text == (sample.rows[1]["parent_text"] or None)
        assert [label["key"] for label in seen.labels] == ["1", "2", "3", "4", "5", "6"][: len(LABELS)]
        assert con.execute("SELECT count(*) FROM codes WHERE coder = 'ana'").fetchone()[0] == 3
        # coded to the end, wrapping round: nothing left
        for row in range(1, 21):
            write_code(store, sample.sample_id, row, "ana", "other")
        assert next_uncoded(con, sample.sample_id, "ana", after=7) is None
        summary = {s.sample_id: s for s in samples(con)}[sample.sample_id]
        assert (summary.size, summary.coded) == (20, {"ana": 20})


@pytest.mark.parametrize(
    "args,message",
    [
        (("discourse-srs-n20-seed1", 1, "ana", "sarcasm"), "'sarcasm' is not a discourse label"),
        (("discourse-srs-n20-seed1", 1, "  ", "other"), "the coder has no name"),
        (("discourse-srs-n20-seed1", 21, "ana", "other"), "has rows 1 to 20, not 21"),
        (("no-such-sample", 1, "ana", "other"), "no sample 'no-such-sample'"),
    ],
)
def test_bad_codes_are_refused_and_nothing_is_stored(tmp_path, args, message):
    browser, _, _ = _two_copies(tmp_path)
    with writing(browser) as store:
        with pytest.raises(CodingError, match=message):
            write_code(store, *args)
        assert sample_task(store.con, "discourse-srs-n20-seed1") == ("discourse", 20)
    assert _codes(browser) == []


def test_a_store_held_by_another_process_is_busy_and_nothing_is_lost(tmp_path):
    browser, _, sample = _two_copies(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", WRITER, browser], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreBusyError):
            with writing(browser) as store:
                write_code(store, sample.sample_id, 1, "ana", "other")
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
    # the writer is gone: the same write goes through
    with writing(browser) as store:
        write_code(store, sample.sample_id, 1, "ana", "other")
    assert [c[3:5] for c in _codes(browser)] == [("ana", "other")]


# -- the pages ---------------------------------------------------------------------------------

ORIGIN = {"origin": "http://testserver"}


def _client(db: str, tmp_path):
    from fastapi.testclient import TestClient

    from askscope.web.app import create_app

    return TestClient(create_app([db], snapshot_dir=tmp_path / "snaps"), follow_redirects=False)


def test_pages_draw_code_and_refuse_requests_without_the_csrf_token(tmp_path):
    (tmp_path / "a").mkdir()
    db = copy_of("uber", tmp_path / "a")
    with _client(db, tmp_path) as client:
        home = client.get("/coding")
        token = home.cookies["askscope_csrf"]
        assert home.status_code == 200 and "No sample yet" in home.text
        form = {"task": "discourse", "n": "6", "seed": "2", "stratify_by": ""}
        # no CSRF token, or a foreign origin: refused, nothing drawn
        assert client.post("/coding/samples", data=form, headers=ORIGIN).status_code == 403
        forged = client.post(
            "/coding/samples", data={**form, "csrf_token": token}, headers={"origin": "http://evil.example"}
        )
        assert forged.status_code == 403
        with askscope.open_store(db, read_only=True) as store:
            assert not store.con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'code_samples'"
            ).fetchone()[0]
        drawn = client.post("/coding/samples", data={**form, "csrf_token": token}, headers=ORIGIN)
        assert drawn.status_code == 303 and drawn.headers["location"] == "/coding?db=uber&drawn=discourse-srs-n6-seed2"
        sid = "discourse-srs-n6-seed2"
        assert sid in client.get("/coding").text
        # resume: a new coder starts at row 1
        resume = client.get(f"/coding/{sid}?coder=ana")
        assert resume.status_code == 303 and resume.headers["location"] == f"/coding/{sid}/1?db=uber&coder=ana"
        page = client.get(f"/coding/{sid}/1?coder=ana")
        assert (
            page.status_code == 200 and 'data-key="1"' in page.text and '<script src="/static/coding.js"' in page.text
        )
        save = {"coder": "ana", "code": "support", "note": "kind words"}
        # a POST without the token is refused and stores nothing
        assert client.post(f"/coding/{sid}/1", data=save, headers=ORIGIN).status_code == 403
        assert _codes(db) == []
        # a label that is not one: 400, the page keeps the note, nothing stored
        wrong = client.post(f"/coding/{sid}/1", data={**save, "code": "sarcasm", "csrf_token": token}, headers=ORIGIN)
        assert wrong.status_code == 400 and "is not a discourse label" in wrong.text and "kind words" in wrong.text
        assert _codes(db) == []
        ok = client.post(f"/coding/{sid}/1", data={**save, "csrf_token": token}, headers=ORIGIN)
        assert ok.status_code == 303 and ok.headers["location"] == f"/coding/{sid}/2?db=uber&coder=ana&saved=1"
        assert [c[3:5] for c in _codes(db)] == [("ana", "support")]
        # the next page reads a fresh snapshot: it shows the code
        again = client.get(f"/coding/{sid}/1?coder=ana")
        assert 'value="support" data-key="' in again.text and "checked" in again.text.split('value="support"')[1][:40]
        # the JSON API: the same check, the token in a header
        api = client.post(f"/api/coding/{sid}/2", json={"coder": "ana", "code": "other"}, headers=ORIGIN)
        assert api.status_code == 403
        api = client.post(
            f"/api/coding/{sid}/2", json={"coder": "ana", "code": "other"}, headers={**ORIGIN, "x-csrf-token": token}
        )
        assert api.status_code == 200 and api.json()["next_uncoded"] == 3
        assert client.get("/api/coding/samples").json()[0]["coded"] == {"ana": 2}


def test_a_busy_store_keeps_the_coders_choice_and_nothing_is_lost(tmp_path):
    browser, _, sample = _two_copies(tmp_path)
    sid = sample.sample_id
    with _client(browser, tmp_path) as client:
        token = client.get("/coding").cookies["askscope_csrf"]
        save = {"coder": "ana", "code": "abuse", "note": "a note worth keeping", "csrf_token": token}
        holder = subprocess.Popen(
            [sys.executable, "-c", WRITER, browser], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            busy = client.post(f"/coding/{sid}/1", data=save, headers=ORIGIN)
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert holder.wait(timeout=60) == 0
        assert busy.status_code == 503
        assert "being written by another process" in busy.text and "retry" in busy.text
        assert "a note worth keeping" in busy.text  # the note is still in the form
        assert "checked" in busy.text.split('value="abuse"')[1][:40]  # and the chosen label
        assert _codes(browser) == []
        # the writer is done: the same POST goes through
        assert client.post(f"/coding/{sid}/1", data=save, headers=ORIGIN).status_code == 303
    assert [c[3:5] for c in _codes(browser)] == [("ana", "abuse")]


def test_agreement_and_estimate_pages_show_the_librarys_figures(tmp_path):
    browser, _, sample = _two_copies(tmp_path)
    labels = _model_labels(browser)
    with writing(browser) as store:
        for row, (a, b) in enumerate(
            zip(_coding(labels, sample.rows), _coding(labels, sample.rows, flip_every=5)), start=1
        ):
            write_code(store, sample.sample_id, row, "ana", a)
            write_code(store, sample.sample_id, row, "bo", b)
    with askscope.open_store(browser, read_only=True) as store:
        alpha = agreement(store, "discourse").alpha
        shares = estimate(store, "discourse").as_json()["shares"]
    with _client(browser, tmp_path) as client:
        page = client.get(f"/coding/{sample.sample_id}/agreement")
        api = client.get(f"/api/coding/{sample.sample_id}/agreement").json()
        est = client.get(f"/coding/{sample.sample_id}/estimate")
        est_api = client.get(f"/api/coding/{sample.sample_id}/estimate").json()
        # a new code is seen at once (the figures are cached per snapshot, and a code makes a new one)
        token = client.cookies["askscope_csrf"]
        saved = client.post(
            f"/api/coding/{sample.sample_id}/1",
            json={"coder": "cy", "code": "other"},
            headers={**ORIGIN, "x-csrf-token": token},
        )
        assert saved.status_code == 200
        assert client.get(f"/api/coding/{sample.sample_id}/estimate").json()["coders"] == ["ana", "bo", "cy"]
        assert client.get(f"/api/coding/{sample.sample_id}/agreement").json()["coders"] == ["ana", "bo", "cy"]
    assert f"α = {alpha:.3f}" in page.text and api["alpha"] == round(alpha, 4)
    assert est_api["shares"] == shares and est_api["n_coded"] == 20
    for label, kinds in shares.items():
        assert f"{kinds['ppi']['estimate'] * 100:.1f}%" in est.text.split(f'data-label="{label}"')[1].split("</tr>")[0]


@needs_browser
def test_a_sample_coded_in_chromium_with_the_keyboard_gives_the_validated_estimate(tmp_path):
    (tmp_path / "a").mkdir()
    db = copy_of("uber", tmp_path / "a")
    labels = _model_labels(db)
    keys = {label: str(i + 1) for i, label in enumerate(LABELS)}
    size = 8
    with served(create_app([db], snapshot_dir=tmp_path / "snaps")) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        # draw a sample in the browser (the form carries the CSRF token)
        page.goto(base + "/coding")
        page.fill("#draw input[name=n]", str(size))
        page.fill("#draw input[name=seed]", "3")
        page.click("#draw button[type=submit]")
        page.wait_for_selector(f"tr[data-sample='discourse-srs-n{size}-seed3']")
        # a POST from the page without the CSRF token is refused (same origin, cookie sent, no token)
        status = page.evaluate(
            """sid => fetch('/coding/' + sid + '/1', {method: 'POST', body: new URLSearchParams({coder: 'eve', code: 'abuse'})})
                .then(r => r.status)""",
            f"discourse-srs-n{size}-seed3",
        )
        assert status == 403
        assert problems == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
        problems.clear()
        # start coding as ana
        page.fill(f"tr[data-sample='discourse-srs-n{size}-seed3'] input[name=coder]", "ana")
        page.click(f"tr[data-sample='discourse-srs-n{size}-seed3'] button[type=submit]")
        for step in range(1, size + 1):
            page.wait_for_selector("#coded-post")
            page.wait_for_load_state("load")  # coding.js listens from DOMContentLoaded on
            assert page.inner_text("#progress").startswith(f"Post {step} of {size}")
            if step == 3:
                # leave after two posts and come back: ana resumes at post 3
                page.goto(base + "/coding")
                page.fill(f"tr[data-sample='discourse-srs-n{size}-seed3'] input[name=coder]", "ana")
                page.click(f"tr[data-sample='discourse-srs-n{size}-seed3'] button[type=submit]")
                page.wait_for_selector("#coded-post")
                page.wait_for_load_state("load")
                assert page.inner_text("#progress").startswith(f"Post 3 of {size} · 2 coded by ana")
            href = page.get_attribute("#coded-post a[href^='/posts/']", "href")
            post_id = href.split("?")[0].rsplit("/", 1)[1]
            if step == 2:  # a note first, typed in the note field (keys there are text, not labels)
                page.fill("textarea[name=note]", "1 2 3 typed, not codes")
                page.eval_on_selector("textarea[name=note]", "t => t.blur()")
            with page.expect_navigation():
                page.keyboard.press(keys[labels[post_id]])  # the model's label, by its key
        # after the last post: the validated estimates of the coded sample
        page.wait_for_selector("#estimates")
        assert page.inner_text("#n-coded") == str(size)
        assert "ana has coded every post" in page.inner_text("#done")
        assert problems == []
    codes = _codes(db)
    assert len(codes) == size and {c[3] for c in codes} == {"ana"}  # eve's POST stored nothing
    assert all(c[4] == labels[c[1]] for c in codes)
    with askscope.open_store(db, read_only=True) as store:
        assert store.con.execute("SELECT note FROM code_notes").fetchall() == [("1 2 3 typed, not codes",)]
        assert estimate(store, "discourse").n_coded == size


def test_coding_reads_the_live_store_and_copies_no_snapshot_per_code(tmp_path):
    browser, _, sample = _two_copies(tmp_path)
    sid = sample.sample_id
    snaps = tmp_path / "snaps"

    def snapshots() -> list[str]:
        return sorted(p.name for p in snaps.rglob("snapshot-*.duckdb"))

    with _client(browser, tmp_path) as client:
        assert client.get(f"/coding/{sid}/1?coder=ana").status_code == 200
        token = client.cookies["askscope_csrf"]
        first = snapshots()
        assert len(first) == 1  # the one snapshot to fall back on while a writer holds the store
        for row, code in ((1, "support"), (2, "abuse"), (3, "other")):
            saved = client.post(
                f"/coding/{sid}/{row}", data={"coder": "ana", "code": code, "csrf_token": token}, headers=ORIGIN
            )
            assert saved.status_code == 303
            following = client.get(saved.headers["location"])
            assert following.status_code == 200 and f"{row} coded by ana" in following.text
        again = client.get(f"/coding/{sid}/2?coder=ana")
        assert "checked" in again.text.split('value="abuse"')[1][:40]
        assert snapshots() == first  # three codes, three pages, no copy of the store
        # the estimates read a snapshot: one new copy, with the three codes
        assert client.get(f"/api/coding/{sid}/estimate").json()["n_coded"] == 3
        assert snapshots() != first
