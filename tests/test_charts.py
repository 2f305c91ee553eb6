"""The report's charts and their series (issue 16): no line across empty hours, no share drawn
from a handful of posts, each participant counted once by language, PNG at 300 dpi."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import sys
import textwrap

from lens_campaign import CAMPAIGN, SEED, NoVectors, analysed_store
from PIL import Image

import askscope
from askscope.campaign import parse_campaign
from askscope.reports.charts import MIN_POSTS_FOR_SHARE, hostile_series, render_all
from askscope.reports.document import build


def _doc(points, bucket="1 hour"):
    return {"lenses": {"backfire": {"timeline": {"bucket": bucket, "points": points}}}}


def _p(hour, posts, share, lo=0.1, hi=0.9):
    return {"t": f"2014-12-15T{hour:02d}:00:00Z", "posts": posts, "hostile_share": share, "hostile_ci": [lo, hi]}


def test_hostile_series_leaves_thin_and_empty_hours_blank():
    # 03:00 has 12 posts (drawn), 04:00 only 2 (blank: one or two posts give 0% or 100%), nothing
    # from 05:00 to 06:00 (blank, not a line from 04:00 to 07:00), 07:00 has 20 posts (drawn)
    series = hostile_series(_doc([_p(3, 12, 0.5), _p(4, 2, 0.0), _p(7, 20, 0.25)]))
    assert [t.hour for t, *_ in series] == [3, 4, 5, 6, 7]
    values = [v for _, v, _, _ in series]
    assert values[0] == 0.5 and values[4] == 0.25
    assert all(math.isnan(v) for v in values[1:4])
    assert MIN_POSTS_FOR_SHARE == 10


def test_a_bucket_at_the_threshold_is_drawn():
    series = hostile_series(_doc([_p(3, MIN_POSTS_FOR_SHARE, 0.3), _p(4, MIN_POSTS_FOR_SHARE - 1, 0.3)]))
    assert series[0][1] == 0.3 and math.isnan(series[1][1])


def test_charts_for_papers_are_300_dpi_png_on_white(tmp_path):
    path = analysed_store("campaign")
    with askscope.open_store(str(path), read_only=True) as store:
        doc = build(store)
    pngs = render_all(doc, "png")
    assert pngs
    for name, data in pngs.items():
        image = Image.open(io.BytesIO(data))
        assert round(image.info["dpi"][0]) == 300, name
        assert image.convert("RGB").getpixel((0, 0)) == (255, 255, 255), name


def test_each_participant_is_counted_once_under_their_main_language(tmp_path):
    # In the hand-made campaign u101 writes 2001, 2006 and 2010 (all English); one of them is
    # relabelled French here, so u101 has two languages. Counted by main language, u101 is once
    # under "en" (2 posts of 3) and the participants add up to the audience (8 accounts post, of
    # which u108 only reposts: 7 participants). The engagement lens computes the series; the
    # report shows it as stored, so the lenses are computed again after the relabelling.
    copy = tmp_path / "c.duckdb"
    shutil.copy(analysed_store("campaign"), copy)
    with askscope.open_store(str(copy)) as store:
        store.con.execute("UPDATE labels SET label = 'fr' WHERE task = 'language' AND post_id = '2006'")
        authors = store.con.execute(
            "SELECT count(DISTINCT p.author_id) FROM relations r JOIN posts p ON p.id = r.post_id "
            "WHERE r.in_campaign AND r.relation <> 'host'"
        ).fetchall()[0][0]
    askscope.analyze(
        str(copy), parse_campaign(CAMPAIGN), only=["lenses"], settings={"seed": SEED, "embedder": NoVectors()}
    )
    with askscope.open_store(str(copy), read_only=True) as store:
        doc = build(store)
    by_language = doc["lenses"]["engagement"]["participants_by_language"]
    rows = {r["language"]: r["participants"] for r in by_language}
    assert sum(rows.values()) == authors == 7
    assert rows == {"en": 5, "fr": 1, "de": 1}
    # posts: u101's three under en, with 2002/2009/2011 (u102), 2003 (u103), 2004 (u104), 2008 (u107)
    assert {r["language"]: r["posts"] for r in by_language} == {"en": 9, "fr": 1, "de": 1}


def test_charts_leave_matplotlib_as_the_caller_set_it():
    # In a fresh interpreter whose caller chose a backend and a font size: importing the charts
    # and drawing every one of them must neither import pyplot, nor switch the backend, nor
    # leave askscope's style in the global settings.
    script = textwrap.dedent(
        f"""
        import sys
        import matplotlib
        matplotlib.use("svg")
        matplotlib.rcParams["font.size"] = 17.0
        import askscope
        from askscope.reports.charts import render_all
        from askscope.reports.document import build
        with askscope.open_store({str(analysed_store("campaign"))!r}, read_only=True) as store:
            images = render_all(build(store), "svg") | render_all(build(store), "png")
        print(len(images), matplotlib.get_backend(), matplotlib.rcParams["font.size"],
              matplotlib.rcParams["svg.hashsalt"], "matplotlib.pyplot" in sys.modules)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    count, backend, size, salt, pyplot = proc.stdout.split()
    assert int(count) >= 5  # the charts were drawn (the hand-made campaign has data for them)
    assert (backend, size, salt, pyplot) == ("svg", "17.0", "None", "False")
