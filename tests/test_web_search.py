"""The explorer's full-text index (askscope.web.textindex) selects exactly the posts ILIKE does:
on two real campaigns (every word of their posts, fragments and phrases of them) and on planted
texts with accents, Arabic with its vowel marks, CJK, hashtags, mentions and the LIKE wildcards
``%`` and ``_`` as literals; and it does narrow the search (the condition is not ``true``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from web_campaigns import campaign_store
from web_server import texts_store

from askscope.web import postquery, textindex
from askscope.web.app import create_app

PLANTED = [
    "Le café est fermé, naïve Éric",  # 2000
    "CAFÉ au lait",  # 2001
    "مَرْحَبًا بكم في #السلام",  # 2002: Arabic with vowel marks, an Arabic hashtag
    "مرحبا بكم",  # 2003: the same word without them
    "#Ferguson now @User_1 says",  # 2004
    "ferguson, said user_10",  # 2005
    "100% sure, a_b c",  # 2006
    "50 percent; ab",  # 2007
    "İstanbul 東京タワー",  # 2008
    "x#ferguson y@user",  # 2009: a mark inside a word
]
QUERIES = [
    "café",
    "CAFÉ",
    "caf",
    "é",
    "fé au",
    "naïve éric",
    "مَرْحَبًا",
    "مرحبا",
    "رح",
    "#السلام",
    "#ferguson",
    "#Fergu",
    "ferguson",
    "rguson,",
    "@user_1",
    "@user",
    "user_1",
    "USER",
    "100%",
    "%",
    "_",
    "a_b",
    "a%b",
    "0 p",
    "istanbul",
    "東京",
    "京タ",
    "x#fer",
    "y@",
    "nothing here",
    "'; DROP TABLE posts; --",
]


def compare(db: str, queries: list[str], folder: Path) -> dict[str, tuple[list[str], bool]]:
    """Per query: the posts ILIKE selects (the direct query on the store), after checking that the
    explorer with its index selects the same, in the same order, with the same count."""
    app = create_app([db], snapshot_dir=folder)
    handle = next(iter(app.state.stores.values()))
    out = {}
    with handle.reading() as r:
        explore = handle.explore(r)
        assert explore is not None
        for q in queries:
            f = postquery.parse({"set": "all", "q": q})
            by_ilike, _ = postquery.page(r.con, f, r.tables, limit=200)
            by_index, _ = postquery.page(r.con, f, r.tables, limit=200, explore=explore)
            assert [p["id"] for p in by_index] == [p["id"] for p in by_ilike], q
            assert postquery.count(r.con, f, r.tables, explore) == postquery.count(r.con, f, r.tables) == len(by_ilike)
            out[q] = ([p["id"] for p in by_ilike], textindex.candidates(explore, q) is not None)
        explore.close()
    handle.close()
    return out


def test_planted_texts_index_and_ilike_agree(tmp_path) -> None:
    db = texts_store(tmp_path, PLANTED)
    found = compare(db, QUERIES, tmp_path / "snaps")
    ids = {q: found[q][0] for q in QUERIES}
    # by hand (ILIKE is a case-insensitive substring match; % and _ are literal)
    assert ids["café"] == ids["CAFÉ"] == ["2000", "2001"]
    assert ids["fé au"] == ["2001"] and ids["naïve éric"] == ["2000"]
    assert ids["مَرْحَبًا"] == ["2002"] and ids["مرحبا"] == ["2003"]  # vowel marks are characters
    assert ids["#السلام"] == ["2002"]
    assert ids["#Fergu"] == ["2004", "2009"]
    assert ids["ferguson"] == ["2004", "2005", "2009"]
    assert ids["@user_1"] == ["2004"] and ids["user_1"] == ["2004", "2005"]
    assert ids["%"] == ["2006"] and ids["100%"] == ["2006"] and ids["a%b"] == []
    assert ids["_"] == ["2004", "2005", "2006"] and ids["a_b"] == ["2006"]
    assert ids["istanbul"] == ["2008"] and ids["京タ"] == ["2008"]
    assert ids["nothing here"] == [] and ids["'; DROP TABLE posts; --"] == []
    # the index narrows the search (it gives candidates) for words it holds
    for q in ("café", "مرحبا", "#Fergu", "user_1", "東京", "nothing here"):
        assert found[q][1], q
    assert not found["%"][1]  # no token: ILIKE alone


@pytest.mark.parametrize("name", ["uber", "ferguson"])
def test_real_campaigns_index_and_ilike_agree(name, tmp_path) -> None:
    import askscope

    db = str(campaign_store(name))
    rows: list[Any] = askscope.query(
        db, "SELECT text FROM posts WHERE text IS NOT NULL ORDER BY id LIMIT 40"
    ).to_pylist()
    texts = [r["text"] for r in rows]
    queries: set[str] = set()
    for text in texts:
        words = re.findall(r"[#@]?\w+", text)
        queries.update(words[:6])
        queries.update(w[1:4] for w in words[:6] if len(w) > 4)  # fragments
        queries.update(f"{a} {b}" for a, b in zip(words[:4], words[1:5]))  # phrases
        queries.add(text[:12].upper())
    found = compare(db, sorted(queries), tmp_path / "snaps")
    assert sum(1 for ids, _ in found.values() if ids) > len(found) // 2  # most queries find posts
