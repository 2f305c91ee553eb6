"""Spreadsheet CSV exports (issue 16): semicolons and a BOM, dates as a spreadsheet writes them,
ids taken from status URLs when there is no id column, and a clear exit when nothing fits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from conftest import rows, run_cli, shared

import askscope
from askscope.errors import UsageError
from askscope.readers.csv import DateParser, post_address
from askscope.readers.x_v1 import InvalidValue

UTC = UTC

# A European spreadsheet's "Save as CSV": BOM, ';' separators, day-first dates, no id column.
EXPORT = (
    "\ufeffTweet;Date;Link;User\r\n"
    "Stay safe everyone;15/12/2014 14:20;https://twitter.com/Uber_Sydney/status/544329935943237632;Uber_Sydney\r\n"
    '"Why surge; today?";15/12/2014 14:31;https://x.com/someone/status/544330596198019073?s=20;someone\r\n'
)
MAP = ["--map", "Tweet=text", "--map", "Date=created_at", "--map", "Link=url", "--map", "User=author_handle"]


def test_a_semicolon_export_with_day_first_dates_and_status_urls(tmp_path):
    source = tmp_path / "export.csv"
    source.write_bytes(EXPORT.encode("utf-8"))
    db = str(tmp_path / "c.duckdb")
    proc = run_cli("ingest", db, str(source), *MAP)
    assert proc.returncode == 0, proc.stderr
    with askscope.open_store(db) as store:
        got = rows(store, "SELECT id, platform, text, created_at, url FROM posts ORDER BY id")
    assert [(r[0], r[1], r[2], r[3]) for r in got] == [
        ("544329935943237632", "x", "Stay safe everyone", datetime(2014, 12, 15, 14, 20, tzinfo=UTC)),
        ("544330596198019073", "x", "Why surge; today?", datetime(2014, 12, 15, 14, 31, tzinfo=UTC)),
    ]
    # reparse reads the stored raw rows with the same options
    assert run_cli("reparse", db).returncode == 0
    with askscope.open_store(db) as store:
        assert rows(store, "SELECT count(*) FROM posts WHERE created_at = '2014-12-15 14:20:00+00'")[0][0] == 1


def test_an_ambiguous_date_is_rejected_not_guessed_and_the_flag_settles_it(tmp_path):
    source = tmp_path / "export.csv"
    source.write_text("id,text,created_at\n1,hello,05/12/2014 09:00\n")
    proc = run_cli("ingest", str(tmp_path / "a.duckdb"), str(source))
    assert proc.returncode == 1  # every row of the input rejected
    assert "could be day/month or month/day" in proc.stderr and "--day-first" in proc.stderr
    for flag, month, day in (("--day-first", 12, 5), ("--month-first", 5, 12)):
        db = str(tmp_path / f"{flag}.duckdb")
        assert run_cli("ingest", db, str(source), flag).returncode == 0
        with askscope.open_store(db) as store:
            assert rows(store, "SELECT created_at FROM posts")[0][0] == datetime(2014, month, day, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "order, fmt, cell, expected",
    [
        (None, None, "15/12/2014 14:20", datetime(2014, 12, 15, 14, 20)),  # a day over 12: day first
        (None, None, "12/15/14 2:20 PM", datetime(2014, 12, 15, 14, 20)),  # US, two-digit year, PM
        (None, None, "15.12.2014 14:20:05", datetime(2014, 12, 15, 14, 20, 5)),  # German dots, seconds
        (None, None, "07/07/2014", datetime(2014, 7, 7)),  # same either way
        ("mdy", None, "2/24/2015 11:35", datetime(2015, 2, 24, 11, 35)),  # the airline export's form
        ("dmy", None, "12/01/2015 12:00 AM", datetime(2015, 1, 12, 0, 0)),  # 12 AM is midnight
        (None, "%d %b %Y, %H.%M", "15 Dec 2014, 14.20", datetime(2014, 12, 15, 14, 20)),
        (None, None, "2014-12-15T14:20:00Z", datetime(2014, 12, 15, 14, 20)),  # ISO as before
    ],
)
def test_date_forms(order, fmt, cell, expected):
    assert DateParser(order, fmt)(cell) == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "order, fmt, cell, message",
    [
        (None, None, "05/12/2014", "could be day/month"),
        ("dmy", None, "31/02/2014", "is not a date"),
        (None, None, "13/13/2014", "is not a date"),  # neither part can be a month
        (None, "%d.%m.%Y", "2014-12-15", "does not match --date-format"),
    ],
)
def test_bad_dates_say_why(order, fmt, cell, message):
    with pytest.raises(InvalidValue, match=message):
        DateParser(order, fmt)(cell)


def test_unknown_order_is_a_usage_error():
    with pytest.raises(UsageError):
        DateParser("ymd")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://twitter.com/Uber_Sydney/status/544329935943237632", ("x", "544329935943237632")),
        ("https://mobile.twitter.com/a/statuses/1?s=20", ("x", "1")),
        ("https://www.reddit.com/r/AskReddit/comments/abc12/title_here/def34/", ("reddit", "def34")),
        ("https://old.reddit.com/r/AskReddit/comments/abc12/title_here/", ("reddit", "abc12")),
        ("https://example.com/status/1", None),
    ],
)
def test_post_addresses(url, expected):
    assert post_address(url) == expected


def test_the_real_airline_export_with_month_first_dates(tmp_path):
    # Twitter US Airline Sentiment: tweet_id, text and tweet_created ("2/24/2015 11:35")
    source = shared("airline", "Tweets.csv")
    db = str(tmp_path / "air.duckdb")
    proc = run_cli("ingest", db, str(source), "--map", "tweet_created=created_at", "--month-first", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # every row stored; the export repeats 155 tweets (same tweet_id) whose copies differ only in the
    # annotators' columns (airline_sentiment, negativereason), which are not post fields: unchanged
    assert (out["read"], out["new"], out["updated"], out["unchanged"], out["rejected"]) == (14640, 14485, 0, 155, 0)
    with askscope.open_store(db) as store:
        assert rows(store, "SELECT created_at FROM posts WHERE id = '570306133677760513'")[0][0] == datetime(
            2015, 2, 24, 11, 35, tzinfo=UTC
        )
