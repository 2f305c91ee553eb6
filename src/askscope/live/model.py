"""The campaign kept up to date post by post: threads, relations to the host, Q, the answers.

The ``reply_trees``, ``relations`` and ``answers`` stages compute these over the whole store in
SQL; this module computes the same definitions incrementally, so a new post costs the work of
the posts it can change and not a re-analysis:

* threads: a post's parent is its ``in_reply_to_id`` resolved through edit histories; a repost
  has none and is nobody's parent; the root and depth follow the parents (a cycle, and whatever
  hangs below it, is its own root at depth 0, as the stage's recursive walk leaves it);
* hosts: the campaign's hosts and representatives matched by id or handle (case-insensitive)
  over accounts, authors and mentions; a host found later recomputes every relation;
* relations in the stage's order (host, repost, direct_reply, thread_reply, quote, mention,
  hashtag_only, none), P = those of the first six inside the campaign's window (no window: all);
* Q = posts of P not by a host, labelled ``question``, addressed to the host (direct_reply,
  quote, mention, hashtag_only, or a thread_reply naming a host);
* the answer to ``q``: the earliest host post after ``q`` that replies to it (rank 1), quotes it
  (rank 2) or replies below it in its thread (rank 3), ties by rank then id.

A new post changes the relations of its thread below it (its root, depth and parent may be
new), of the posts that quote it or continue its conversation, and registers, when a host
wrote it, an answer candidate on each of its ancestors and on the post it quotes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from askscope.campaign import Campaign

Key = tuple[str, str]

IN_CAMPAIGN = ("host", "direct_reply", "thread_reply", "quote", "mention", "hashtag_only")
ADDRESSED = ("direct_reply", "quote", "mention", "hashtag_only")
MAX_DEPTH = 10_000
#: answer kinds by rank (the answers stage's order of preference at equal times)
KINDS = {1: "reply", 2: "quote", 3: "thread"}

POST_COLUMNS = (
    "platform",
    "id",
    "author_id",
    "author_handle",
    "created_at",
    "text",
    "kind",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "conversation_id",
    "quoted_id",
    "hashtags",
    "mentions",
    "mention_ids",
    "edit_ids",
    "repost_count",
    "like_count",
    "url",
    "is_context",
)
#: fields whose change moves a post in the threads or changes what it relates to
STRUCTURE = (
    "author_id",
    "kind",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "conversation_id",
    "quoted_id",
    "created_at",
)


@dataclass(slots=True)
class LivePost:
    """The fields of a stored post the live model uses."""

    platform: str
    id: str
    author_id: str | None
    author_handle: str | None
    created_at: datetime | None
    text: str
    kind: str
    in_reply_to_id: str | None
    in_reply_to_author_id: str | None
    conversation_id: str | None
    quoted_id: str | None
    hashtags: list[str]
    mentions: list[str]
    mention_ids: list[str]
    edit_ids: list[str]
    repost_count: int
    like_count: int
    url: str | None
    is_context: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> LivePost:
        values = dict(zip(POST_COLUMNS, row))
        for name in ("hashtags", "mentions", "mention_ids", "edit_ids"):
            values[name] = list(values[name] or [])
        values["text"] = values["text"] or ""
        values["repost_count"] = int(values["repost_count"] or 0)
        values["like_count"] = int(values["like_count"] or 0)
        values["is_context"] = bool(values["is_context"])
        return cls(**values)

    @property
    def key(self) -> Key:
        return (self.platform, self.id)


@dataclass
class Changes:
    """What one update changed: posts whose relation or P membership was recomputed, posts that
    need labels, and questions whose answer candidates grew."""

    recomputed: set[Key] = field(default_factory=set)
    to_label: set[Key] = field(default_factory=set)
    answered: set[Key] = field(default_factory=set)


class CampaignModel:
    """Threads, hosts, relations, P, Q and answer candidates of the posts seen so far."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.refs = [(r.platform, r.value, "host") for r in campaign.hosts] + [
            (r.platform, r.value, "representative") for r in campaign.representatives
        ]
        self.tags = set(campaign.hashtags_lower)
        self.posts: dict[Key, LivePost] = {}
        self.children: dict[Key, set[Key]] = {}
        self.quoters: dict[Key, set[Key]] = {}
        self.conversation: dict[Key, set[Key]] = {}
        self.latest: dict[Key, str] = {}  # edited post's old id -> the stored (latest) id
        # known (platform, id, handle) triples for resolving hosts
        self.handles_of: dict[Key, set[str]] = {}
        self.ids_of_handle: dict[Key, set[str]] = {}
        self.host_ids: set[Key] = set()
        self.host_handles: set[Key] = set()
        self.relation: dict[Key, str] = {}
        self.mentions_host: dict[Key, bool] = {}
        self.in_campaign: set[Key] = set()
        self.candidates: dict[Key, dict[Key, int]] = {}
        self.followers: dict[Key, int] = {}
        self._hosts_dirty = False
        self._resolve_hosts()

    # --- hosts ------------------------------------------------------------------------------

    def _know(self, platform: str, author_id: str | None, handle: str | None) -> bool:
        """Record a known (id, handle); True when it is new and concerns a campaign host ref."""
        if not author_id:
            return False
        handles = self.handles_of.get((platform, author_id))
        new = handles is None or (handle is not None and handle not in handles)
        if handles is None:
            handles = self.handles_of[(platform, author_id)] = set()
        if handle is not None:
            handles.add(handle)
            self.ids_of_handle.setdefault((platform, handle.lower()), set()).add(author_id)
        concerns = new and any(
            p == platform and (value == author_id or (handle is not None and value.lower() == handle.lower()))
            for p, value, _ in self.refs
        )
        self._hosts_dirty |= concerns
        return concerns

    def _resolve_hosts(self) -> bool:
        """Resolve the refs as the relations stage's ``hosts`` table does; True when changed."""
        ids: set[Key] = set()
        handles: set[Key] = set()
        for platform, value, _ in self.refs:
            matched: dict[str, set[str]] = {}
            if (platform, value) in self.handles_of:
                matched.setdefault(value, set()).update(self.handles_of[(platform, value)])
            for author in self.ids_of_handle.get((platform, value.lower()), ()):
                matched.setdefault(author, set()).update(
                    h for h in self.handles_of.get((platform, author), ()) if h.lower() == value.lower()
                )
            if not matched:
                handles.add((platform, value.lower()))
            for author, names in matched.items():
                ids.add((platform, author))
                if names:
                    handles.add((platform, min(names).lower()))
        self._hosts_dirty = False
        changed = ids != self.host_ids or handles != self.host_handles
        self.host_ids, self.host_handles = ids, handles
        return changed

    def is_host_post(self, key: Key | None) -> bool:
        post = self.posts.get(key) if key is not None else None
        return post is not None and post.author_id is not None and (post.platform, post.author_id) in self.host_ids

    # --- threads ----------------------------------------------------------------------------

    def parent_of(self, post: LivePost) -> Key | None:
        """The thread parent (``threads.parent_id``): in_reply_to_id through edit histories."""
        if post.kind == "repost" or post.in_reply_to_id is None:
            return None
        raw = post.in_reply_to_id
        return (post.platform, self.latest.get((post.platform, raw), raw))

    def _node(self, key: Key | None) -> LivePost | None:
        post = self.posts.get(key) if key is not None else None
        return post if post is not None and post.kind != "repost" else None

    def place(self, key: Key) -> tuple[Key, int, bool]:
        """(root, depth, parent_missing) of a stored non-repost post, as ``threads`` has them."""
        post = self.posts[key]
        parent = self.parent_of(post)
        parent_missing = parent is not None and self._node(parent) is None
        seen = {key}
        chain = [key]
        current = key
        while True:
            up = self.parent_of(self.posts[current])
            if up is None or self._node(up) is None:
                break
            if up in seen or len(chain) > MAX_DEPTH:
                return key, 0, parent_missing  # a cycle (or below one): not reached from a root
            seen.add(up)
            chain.append(up)
            current = up
        return current, len(chain) - 1, parent_missing

    def subtree(self, keys: Iterable[Key]) -> set[Key]:
        """``keys`` and every stored post below them."""
        out: set[Key] = set()
        todo = list(keys)
        while todo:
            key = todo.pop()
            if key in out:
                continue
            out.add(key)
            todo.extend(c for c in self.children.get(key, ()) if c in self.posts)
        return out

    def ancestors(self, key: Key) -> list[Key]:
        """The parent ids up the thread (the first may be missing from the store), nearest first."""
        out: list[Key] = []
        seen = {key}
        parent = self.parent_of(self.posts[key])
        while parent is not None and parent not in seen and len(out) < MAX_DEPTH:
            out.append(parent)
            seen.add(parent)
            node = self._node(parent)
            if node is None:
                break
            parent = self.parent_of(node)
        return out

    # --- updates ----------------------------------------------------------------------------

    def add_accounts(self, rows: Iterable[tuple[str, str, str | None, int | None]]) -> bool:
        """Accounts (platform, id, handle, followers); True when one concerns a host ref."""
        touched = False
        for platform, account_id, handle, followers in rows:
            touched |= self._know(platform, account_id, handle)
            if followers is not None:
                self.followers[(platform, account_id)] = int(followers)
        return touched

    def update(self, posts: list[LivePost]) -> Changes:
        """Add or replace stored posts; recompute what they can change."""
        changes = Changes()
        affected: set[Key] = set()
        for post in posts:
            key = post.key
            old = self.posts.get(key)
            structural = old is None or any(getattr(old, f) != getattr(post, f) for f in STRUCTURE)
            if old is not None and structural:
                self._unlink(old)
            self.posts[key] = post
            if structural:
                self._link(post)
            self._know(post.platform, post.author_id, post.author_handle)
            if len(post.mention_ids) == len(post.mentions):
                for mid, handle in zip(post.mention_ids, post.mentions):
                    self._know(post.platform, mid, handle)
            for old_id in post.edit_ids:
                if old_id != post.id and len(post.edit_ids) > 1:
                    self.latest[(post.platform, old_id)] = post.id
            affected.add(key)
            if structural:
                affected |= self.subtree([key])
                affected |= self.quoters.get(key, set())
                affected |= self.conversation.get(key, set())
            if old is None or old.text != post.text:
                changes.to_label.add(key)
        if self._hosts_dirty and self._resolve_hosts():
            affected = set(self.posts)
            self.candidates.clear()
            for key in self.posts:
                if self.is_host_post(key):
                    self._register_answer(key, changes)
        else:
            for key in affected:
                if self.is_host_post(key):
                    self._register_answer(key, changes)
        for key in affected:
            if key in self.posts:
                self._relate(key)
        changes.recomputed = affected
        changes.to_label = {k for k in changes.to_label | affected if k in self.in_campaign}
        return changes

    def _link(self, post: LivePost) -> None:
        parent = self.parent_of(post)
        if parent is not None:
            self.children.setdefault(parent, set()).add(post.key)
        if post.quoted_id:
            self.quoters.setdefault((post.platform, post.quoted_id), set()).add(post.key)
        if post.conversation_id and post.conversation_id != post.id:
            self.conversation.setdefault((post.platform, post.conversation_id), set()).add(post.key)

    def _unlink(self, post: LivePost) -> None:
        parent = self.parent_of(post)
        if parent is not None:
            self.children.get(parent, set()).discard(post.key)
        if post.quoted_id:
            self.quoters.get((post.platform, post.quoted_id), set()).discard(post.key)
        if post.conversation_id:
            self.conversation.get((post.platform, post.conversation_id), set()).discard(post.key)

    def _register_answer(self, host_key: Key, changes: Changes) -> None:
        """A host post is an answer candidate of its ancestors (reply, thread) and of what it quotes."""
        post = self.posts[host_key]
        for steps, ancestor in enumerate(self.ancestors(host_key), start=1):
            self._candidate(ancestor, host_key, 1 if steps == 1 else 3, changes)
        if post.quoted_id:
            self._candidate((post.platform, post.quoted_id), host_key, 2, changes)

    def _candidate(self, question: Key, answer: Key, rank: int, changes: Changes) -> None:
        found = self.candidates.setdefault(question, {})
        if answer not in found or rank < found[answer]:
            found[answer] = rank
            changes.answered.add(question)

    def _relate(self, key: Key) -> None:
        """The post's relation and P membership, by the relations stage's rules."""
        post = self.posts[key]
        platform = post.platform
        by_host = post.author_id is not None and (platform, post.author_id) in self.host_ids
        mentions = {m.lower() for m in post.mentions}
        mentions_host = any((platform, h) in self.host_handles for h in mentions) or any(
            (platform, m) in self.host_ids for m in post.mention_ids
        )
        self.mentions_host[key] = mentions_host
        if by_host:
            relation = "host"
        elif post.kind == "repost":
            relation = "repost"
        else:
            parent = self.parent_of(post)
            root, depth, parent_missing = self.place(key)
            replies_to_host = (parent is not None and self.is_host_post(parent)) or (
                parent_missing
                and post.in_reply_to_author_id is not None
                and (platform, post.in_reply_to_author_id) in self.host_ids
            )
            in_host_thread = (depth > 1 and self.is_host_post(root)) or (
                post.conversation_id is not None
                and post.conversation_id != post.id
                and post.in_reply_to_id is not None
                and self.is_host_post((platform, post.conversation_id))
            )
            if replies_to_host:
                relation = "direct_reply"
            elif in_host_thread:
                relation = "thread_reply"
            elif post.quoted_id is not None and self.is_host_post((platform, post.quoted_id)):
                relation = "quote"
            elif mentions_host:
                relation = "mention"
            elif self.tags & {h.lower() for h in post.hashtags}:
                relation = "hashtag_only"
            else:
                relation = "none"
        self.relation[key] = relation
        if relation in IN_CAMPAIGN and self.in_window(post.created_at):
            self.in_campaign.add(key)
        else:
            self.in_campaign.discard(key)

    def in_window(self, at: datetime | None) -> bool:
        """Inside the campaign's window ``[start, end)``; without one, the window is the span of
        the campaign's posts, which holds every audience post of P."""
        start, end = self.campaign.start, self.campaign.end
        return at is not None and (start is None or at >= start) and (end is None or at < end)

    # --- questions and answers ---------------------------------------------------------------

    def eligible(self, key: Key) -> bool:
        """In P and not a host post (the answers stage's ``_eligible``)."""
        return key in self.in_campaign and self.relation.get(key) != "host"

    def addressed(self, key: Key) -> bool:
        relation = self.relation.get(key)
        return relation in ADDRESSED or (relation == "thread_reply" and self.mentions_host.get(key, False))

    def answer(self, key: Key) -> tuple[Key, str, float] | None:
        """The host's first answer to ``key``: (answer key, kind, latency in seconds)."""
        question = self.posts.get(key)
        if question is None or question.created_at is None:
            return None
        best: tuple[datetime, int, str, Key] | None = None
        for answer_key, rank in self.candidates.get(key, {}).items():
            answer = self.posts.get(answer_key)
            if answer is None or answer.created_at is None or not self.is_host_post(answer_key):
                continue
            if answer.created_at > question.created_at or (
                answer.created_at == question.created_at and answer.id > question.id
            ):
                candidate = (answer.created_at, rank, answer.id, answer_key)
                if best is None or candidate[:3] < best[:3]:
                    best = candidate
        if best is None:
            return None
        return best[3], KINDS[best[1]], (best[0] - question.created_at).total_seconds()

    def thread(self, key: Key) -> list[Key]:
        """The posts from the thread's root down to ``key``, then the replies below it (by time)."""
        up = [a for a in reversed(self.ancestors(key)) if a in self.posts]
        below = sorted(self.subtree([key]) - {key}, key=self._time_order)
        return [*up, key, *below]

    def _time_order(self, key: Key) -> tuple[bool, float, str]:
        at = self.posts[key].created_at
        return (at is None, at.timestamp() if at is not None else 0.0, key[1])
