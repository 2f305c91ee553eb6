"""A campaign file that matches nothing is an error naming what was not found and what the store
holds instead; the default window opens with the host's first post (issue 16). Real data: the
demo's RumourEval thread, where @Uber_Sydney answered the people who replied to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import rows, run_cli

import askscope
import askscope.demo
from askscope.analysis import analyze
from askscope.campaign import CampaignError, parse_campaign

OPENING_POST = "544329935943237632"  # @Uber_Sydney's tweet that the replies answer


@pytest.fixture(scope="module")
def sydney(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sy") / "sy.duckdb")
    askscope.ingest(path, [str(Path(askscope.demo.__file__).parent / "uber_sydney.zip")])
    return path


def test_the_unedited_template_host_is_an_error_naming_the_busiest_accounts(sydney, tmp_path):
    campaign = tmp_path / "c.toml"
    assert run_cli("init", "AskUber", "-o", str(campaign)).returncode == 0  # hosts = ["HostHandle"]
    proc = run_cli("analyze", sydney, "--campaign", str(campaign))
    assert proc.returncode == 1
    first = next(line for line in proc.stderr.splitlines() if line.startswith("Error:"))
    assert first.startswith("Error: host not found in the store: HostHandle (")
    assert "Hint:" in proc.stderr and "Traceback" not in proc.stderr


def test_a_misspelt_host_gets_the_closest_handles(sydney):
    with pytest.raises(CampaignError, match=r"Uber_Sydny \(closest handles in the store: .*Uber_Sydney"):
        analyze(sydney, parse_campaign({"name": "t", "hosts": ["Uber_Sydny"]}), only=["reply_trees", "relations"])


def test_hashtags_that_match_nothing_list_the_commonest(sydney):
    with askscope.open_store(sydney) as store:
        (top,) = rows(
            store,
            "SELECT h FROM (SELECT unnest(hashtags) AS h FROM posts) GROUP BY h ORDER BY count(*) DESC, h LIMIT 1",
        )[0]
    with pytest.raises(CampaignError, match=rf"#nosuchtag \(commonest hashtags there: #{top} \("):
        analyze(
            sydney,
            parse_campaign({"name": "t", "hosts": ["Uber_Sydney"], "hashtags": ["NoSuchTag"]}),
            only=["reply_trees", "relations"],
        )


def test_a_window_with_no_post_is_an_error(sydney):
    campaign = parse_campaign(
        {"name": "t", "hosts": ["Uber_Sydney"], "start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}
    )
    with pytest.raises(CampaignError, match="matches no post in the window 2020-01-01T00:00:00Z"):
        analyze(sydney, campaign, only=["reply_trees", "relations"])


def test_the_default_window_opens_with_the_hosts_opening_post(sydney):
    analyze(sydney, parse_campaign({"name": "t", "hosts": ["Uber_Sydney"]}), only=["reply_trees", "relations"])
    with askscope.open_store(sydney) as store:
        opened = rows(store, "SELECT created_at FROM posts WHERE id = ?", [OPENING_POST])[0][0]
        first_reply = rows(store, "SELECT min(created_at) FROM relations WHERE in_campaign AND relation <> 'host'")[0][
            0
        ]
        start = rows(store, "SELECT start FROM campaign_window")[0][0]
        in_campaign = rows(store, "SELECT in_campaign FROM relations WHERE post_id = ?", [OPENING_POST])[0][0]
    assert opened < first_reply  # the host posted first: the old window started at the first reply
    assert start == opened and in_campaign
