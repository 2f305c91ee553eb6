"""SYNTHETIC planted coordination, for tests and benchmarks of the detectors.

Nothing written here is evidence about any real campaign. :func:`plant_groups` adds groups of
made-up accounts (ids ``planted-g<group>-<member>``, handles ``planted_g<group>_<member>``) to a
store of real posts; on each of a few events a group's members act within a few seconds of each
other on real material: reposting the same real post, posting the same real text, posting
near-copies of a real text, sharing the same link, or replying to the same real post. Their posts
have ``source_file = 'SYNTHETIC planted coordination'`` and ids ``planted-...``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

import pyarrow as pa

from askscope.store.core import Store

SOURCE = "SYNTHETIC planted coordination"
BEHAVIOURS = ("co_repost", "co_post", "co_similar", "co_link", "co_reply")


@dataclass
class Plant:
    """What was planted: group -> member account ids, and the number of posts added."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    behaviour: dict[str, str] = field(default_factory=dict)
    posts: int = 0

    @property
    def accounts(self) -> set[str]:
        return {a for members in self.groups.values() for a in members}


def plant_groups(
    store: Store,
    *,
    groups_per_behaviour: int = 2,
    size: int = 8,
    events: int = 6,
    participation: float = 0.85,
    jitter_seconds: float = 20.0,
    behaviours: tuple[str, ...] = BEHAVIOURS,
    platform: str = "x",
    seed: int = 0,
) -> Plant:
    """Add planted groups acting on the store's real (non-context) posts of ``platform``."""
    rng = random.Random(seed)
    con = store.con
    real = con.execute(
        """
        SELECT id, author_id, author_handle, created_at, text, urls FROM posts
        WHERE platform = ? AND NOT is_context AND kind <> 'repost' AND text IS NOT NULL AND created_at IS NOT NULL
          AND id NOT LIKE 'planted-%'
        ORDER BY id
    """,
        [platform],
    ).fetchall()
    if len(real) < 10:
        raise ValueError("plant_groups needs at least 10 real posts")
    long_texts = [r for r in real if len(r[4].split()) >= 8]
    real_urls = sorted({u for r in real for u in (r[5] or [])})
    plant = Plant()
    rows: list[dict[str, object]] = []
    group_number = 0
    for behaviour in behaviours:
        for _ in range(groups_per_behaviour):
            group_number += 1
            members = [f"planted-g{group_number}-{i}" for i in range(size)]
            name = f"g{group_number}"
            plant.groups[name] = members
            plant.behaviour[name] = behaviour
            for event in range(events):
                anchor = rng.choice(real)
                source = rng.choice(long_texts or real)
                when = anchor[3] + timedelta(seconds=rng.uniform(30, 3600))
                url = (
                    rng.choice(real_urls)
                    if real_urls and rng.random() < 0.5
                    else f"https://planted.example.org/{group_number}/{event}"
                )
                acting = [m for m in members if rng.random() < participation] or members[:2]
                for member in acting:
                    at = when + timedelta(seconds=rng.uniform(0, jitter_seconds))
                    index = member.rsplit("-", 1)[1]
                    row: dict[str, object] = {
                        "platform": platform,
                        "id": f"planted-{name}-{event}-{index}",
                        "author_id": member,
                        "author_handle": f"planted_{name}_{index}",
                        "created_at": at,
                        "kind": "post",
                        "text": f"{source[4]} #planted",
                        "urls": [],
                        "hashtags": ["planted"],
                    }
                    if behaviour == "co_repost":
                        row.update(kind="repost", reposted_id=anchor[0], text=f"RT @{anchor[2]}: {anchor[4]}")
                    elif behaviour == "co_similar":
                        words = source[4].split()
                        drop = rng.randrange(len(words))
                        row["text"] = " ".join(words[:drop] + words[drop + 1 :] + [f"#{rng.choice('abcdef')}"])
                    elif behaviour == "co_link":
                        row.update(text=f"{rng.choice(real)[4]} {url}", urls=[url])
                    elif behaviour == "co_reply":
                        row.update(
                            kind="reply",
                            in_reply_to_id=anchor[0],
                            in_reply_to_author_id=anchor[1],
                            text=f"@{anchor[2]} {rng.choice(real)[4]}",
                        )
                    rows.append(row)
    _insert(store, rows, plant)
    return plant


def _insert(store: Store, rows: list[dict[str, object]], plant: Plant) -> None:
    columns = [
        "platform",
        "id",
        "author_id",
        "author_handle",
        "created_at",
        "kind",
        "text",
        "urls",
        "hashtags",
        "reposted_id",
        "in_reply_to_id",
        "in_reply_to_author_id",
    ]
    data = {c: [r.get(c) for r in rows] for c in columns}
    table = pa.table(
        {
            c: pa.array(v, type=pa.list_(pa.string())) if c in ("urls", "hashtags") else pa.array(v)
            for c, v in data.items()
        }
    )
    con = store.con
    con.register("_planted", table)
    try:
        con.execute(f"""
            INSERT INTO posts ({", ".join(columns)}, is_context, source_file, mentions, observed_at)
            SELECT {", ".join(columns)}, false, '{SOURCE}', [], created_at FROM _planted
        """)
        con.execute("""
            INSERT INTO accounts (platform, id, handle, name, observed_at)
            SELECT DISTINCT platform, author_id, author_handle, 'SYNTHETIC ' || author_handle, max(created_at)
            FROM _planted GROUP BY platform, author_id, author_handle
        """)
    finally:
        con.unregister("_planted")
    plant.posts = len(rows)
