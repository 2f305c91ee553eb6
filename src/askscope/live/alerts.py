"""The live console's alerts: a burst, a coordinated group, hostility over the campaign's threshold.

All three work on the posts' own times (``created_at``), so a replay at any speed raises the same
alerts as the session did:

* **burst**: the audience's posts in the last minute reach :data:`BURST_FACTOR` times the
  session's running baseline (the mean posts per minute over the minutes before, at least
  :data:`BASELINE_MINUTES` of them) and at least :data:`BURST_MIN_POSTS`; one alert per burst
  (the next needs the rate to fall below the threshold first);
* **coordinated group**: at least :data:`GROUP_ACCOUNTS` accounts posting near-identical text
  (character-shingle Jaccard >= :data:`GROUP_SIMILARITY` on the normalised text, or the same
  normalised text) within :data:`GROUP_WINDOW`; one alert per group, when it reaches the size;
* **hostility**: the hostile share of the audience's posts of P (question_critical, mockery,
  abuse) rises above the campaign's ``[live] hostility_threshold`` (default 0.5) with at least
  :data:`HOSTILITY_MIN_POSTS` posts labelled; raised again only after falling
  :data:`HOSTILITY_REARM` below it.
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from askscope.live.duplicates import MIN_CHARS, jaccard, normalise, shingles
from askscope.timefmt import iso

Key = tuple[str, str]

BURST_FACTOR = 3.0
BURST_MIN_POSTS = 10
BASELINE_MINUTES = 5
GROUP_ACCOUNTS = 3
GROUP_SIMILARITY = 0.8
GROUP_WINDOW = timedelta(minutes=10)
HOSTILITY_MIN_POSTS = 20
HOSTILITY_REARM = 0.05
DEFAULT_HOSTILITY_THRESHOLD = 0.5


@dataclass
class Alert:
    id: str
    at: datetime
    kind: str
    message: str
    posts: list[Key]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.at),
            "kind": self.kind,
            "message": self.message,
            "posts": [{"platform": p, "id": i} for p, i in self.posts],
            "href": href(self.posts_times) if self.posts_times else None,
        }

    posts_times: list[datetime] = field(default_factory=list)


def href(times: list[datetime]) -> str:
    """A link to the posts page over the alert's time span (its posts are listed in ``posts``)."""
    start, end = min(times), max(times) + timedelta(seconds=1)
    return f"/posts?set=all&start={iso(start)}&end={iso(end)}"


def _id(kind: str, posts: list[Key]) -> str:
    digest = hashlib.blake2b("|".join(f"{p}:{i}" for p, i in posts).encode(), digest_size=6).hexdigest()
    return f"{kind}-{digest}"


@dataclass
class _Recent:
    key: Key
    author: str | None
    at: datetime
    shingles: frozenset[str]
    normalised: str
    serial: int


class AlertEngine:
    """Feeds on the audience's posts as they arrive; returns the alerts they raise."""

    def __init__(self, hostility_threshold: float = DEFAULT_HOSTILITY_THRESHOLD) -> None:
        self.hostility_threshold = hostility_threshold
        self.minutes: dict[int, list[tuple[Key, datetime]]] = {}
        self.last_burst: int | None = None
        self.recent: deque[_Recent] = deque()
        # an index of the recent posts' shingles and texts, so a new post is compared with the few
        # that share enough of its shingles rather than with every post of the window
        self._serial = 0
        self._postings: dict[str, set[int]] = {}
        self._texts: dict[str, set[int]] = {}
        self._by_serial: dict[int, _Recent] = {}
        self.grouped: set[Key] = set()
        self.hostile_armed = True

    def posts(self, items: list[tuple[Key, str | None, datetime | None, str]]) -> list[Alert]:
        """New audience posts (key, author id, created_at, text), in time order."""
        alerts: list[Alert] = []
        for key, author, at, text in sorted(items, key=lambda i: (i[2] is None, i[2] or datetime.min, i[0])):
            if at is None:
                continue
            alerts += self._burst(key, at)
            alerts += self._group(key, author, at, text)
        return alerts

    def _burst(self, key: Key, at: datetime) -> list[Alert]:
        minute = int(at.timestamp() // 60)
        self.minutes.setdefault(minute, []).append((key, at))
        earlier = [m for m in self.minutes if m < minute]
        if len(earlier) < BASELINE_MINUTES:
            return []
        first = min(self.minutes)
        span = minute - first  # minutes before this one, empty ones included
        baseline = sum(len(self.minutes[m]) for m in earlier) / max(span, 1)
        count = len(self.minutes[minute])
        threshold = max(BURST_MIN_POSTS, BURST_FACTOR * baseline)
        if count < threshold:
            return []
        if self.last_burst is not None and minute - self.last_burst <= 1:
            self.last_burst = minute  # the same burst goes on
            return []
        self.last_burst = minute
        posts = [k for k, _ in self.minutes[minute]]
        times = [t for _, t in self.minutes[minute]]
        alert = Alert(
            _id("burst", posts),
            at,
            "burst",
            f"burst: {count} posts in the minute to {iso(at)}, {count / max(baseline, 1e-9):.1f} x the session's "
            f"baseline of {baseline:.1f} a minute",
            posts,
            times,
        )
        return [alert]

    def _group(self, key: Key, author: str | None, at: datetime, text: str) -> list[Alert]:
        normalised = normalise(text)
        while self.recent and self.recent[0].at < at - GROUP_WINDOW:
            self._forget(self.recent.popleft())
        if len(normalised) < MIN_CHARS:
            return []
        mine = shingles(normalised)
        similar = [
            r
            for r in self._candidates(mine, normalised)
            if r.normalised == normalised or jaccard(mine, r.shingles) >= GROUP_SIMILARITY
        ]
        similar.sort(key=lambda r: r.serial)
        self._serial += 1
        self._remember(_Recent(key, author, at, mine, normalised, self._serial))
        members = [*similar, self.recent[-1]]
        accounts = {m.author for m in members if m.author is not None}
        if len(accounts) < GROUP_ACCOUNTS or key in self.grouped:
            return []
        if any(m.key in self.grouped for m in similar):
            self.grouped.add(key)  # an alerted group grows: no new alert
            return []
        self.grouped.update(m.key for m in members)
        posts = [m.key for m in members]
        excerpt = text if len(text) <= 80 else text[:77] + "..."
        return [
            Alert(
                _id("coordinated_group", posts),
                at,
                "coordinated_group",
                f"coordinated group: {len(accounts)} accounts posted near-identical text within "
                f"{int(GROUP_WINDOW.total_seconds() // 60)} minutes: {excerpt!r}",
                posts,
                [m.at for m in members],
            )
        ]

    def _remember(self, recent: _Recent) -> None:
        self.recent.append(recent)
        self._by_serial[recent.serial] = recent
        self._texts.setdefault(recent.normalised, set()).add(recent.serial)
        for s in recent.shingles:
            self._postings.setdefault(s, set()).add(recent.serial)

    def _forget(self, recent: _Recent) -> None:
        self._by_serial.pop(recent.serial, None)
        self._texts.get(recent.normalised, set()).discard(recent.serial)
        for s in recent.shingles:
            posting = self._postings.get(s)
            if posting is not None:
                posting.discard(recent.serial)
                if not posting:
                    del self._postings[s]

    def _candidates(self, mine: frozenset[str], normalised: str) -> list[_Recent]:
        """Recent posts that can reach the similarity: the same text, or enough shared shingles
        (Jaccard >= t needs at least t * |mine| of them)."""
        counts: Counter[int] = Counter()
        for s in mine:
            counts.update(self._postings.get(s, ()))
        need = GROUP_SIMILARITY * len(mine)
        found = {serial for serial, shared in counts.items() if shared >= need}
        found |= self._texts.get(normalised, set())
        return [self._by_serial[serial] for serial in found if serial in self._by_serial]

    def hostility(
        self, k: int, n: int, at: datetime | None, hostile: Callable[[], tuple[list[Key], list[datetime]]]
    ) -> list[Alert]:
        """The hostile share after an update: ``k`` hostile posts of ``n`` audience posts of P;
        ``hostile()`` lists the hostile posts and their times, in time order, when an alert is due."""
        if n < HOSTILITY_MIN_POSTS or at is None:
            return []
        share = k / n
        if share <= self.hostility_threshold - HOSTILITY_REARM:
            self.hostile_armed = True
        if share <= self.hostility_threshold or not self.hostile_armed:
            return []
        self.hostile_armed = False
        keys, times = hostile()
        posts = keys[-50:]
        return [
            Alert(
                _id("hostility", [*posts, ("at", iso(at) or "")]),
                at,
                "hostility",
                f"hostility: {share:.0%} of {n} audience posts are hostile (critical, mocking or abusive), above "
                f"the campaign's threshold of {self.hostility_threshold:.0%}",
                posts,
                times[-50:],
            )
        ]
