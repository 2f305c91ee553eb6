"""SYNTHETIC campaigns with known truth, for scale tests and planted-signal tests.

Never evidence about a real campaign: posts are real texts (validation splits of TweetEval,
UMSAB and RumourEval in ``../shared/data``) arranged by a simulation whose parameters are known.

The model:

* Arrivals follow a self-exciting (Hawkes) process: audience posts arrive at a background rate
  that rises and falls over the window, and each post triggers on average ``branching`` further
  posts after exponential delays (replies to it, mostly); a share of posts are reposts.
* Each audience post has a true discourse category drawn from ``category_mix`` and a text of
  that kind; questions are addressed to the host (direct replies to the host's opening post,
  mentions of the host, or the hashtag alone).
* The host opens the session, answers each question with a probability set per category, after
  a log-normal latency (median ``latency_median_min``), and the asker sometimes follows up.
* :class:`TruthLabeler` labels the posts from their truth passed through a known confusion
  matrix (``label_noise``), so the corrected shares, answer rates and intervals of the lenses
  can be checked against the truth. The lenses never see that matrix: like the bundled models,
  the labeler hands them a validation set (``validation_per_class`` posts of each true class,
  labelled through the same matrix), and the shares go through the same estimator as in real
  runs, with the validation set's own sampling error.

``write_campaign(path, spec)`` writes a campaign store (source ``synthetic:...``) plus the truth
tables ``sim_truth`` and ``sim_spec``; ``spec_truth(path)`` reads the realised truth back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from askscope.post import Account, Post
from askscope.readers.base import Sink
from askscope.store.batch import build_batch
from askscope.store.core import Store, open_store
from askscope.store.write import begin_ingest, finish_ingests, write_batch
from askscope.vocabulary import CATEGORIES, HOSTILE, QUESTION_CATEGORIES

if TYPE_CHECKING:
    from askscope.classify.quantify import Validation

PLATFORM = "x"
HOST_ID = "1000000000000000001"


@dataclass
class SimulationSpec:
    """Parameters of a simulated campaign (all rates per hour)."""

    seed: int = 0
    posts: int = 2000
    participants: int | None = None  # default: posts // 3
    hours: float = 6.0
    branching: float = 0.5
    decay_minutes: float = 15.0
    repost_share: float = 0.2
    category_mix: dict[str, float] = field(
        default_factory=lambda: {
            "question_genuine": 0.20,
            "question_critical": 0.15,
            "mockery": 0.25,
            "abuse": 0.08,
            "support": 0.12,
            "other": 0.20,
        }
    )
    # share of questions the host answers, per category; other posts: reply_other
    answer_share: dict[str, float] = field(
        default_factory=lambda: {"question_genuine": 0.45, "question_critical": 0.2, "mockery": 0.05}
    )
    reply_other: float = 0.01
    latency_median_min: float = 25.0
    latency_sigma: float = 0.9
    follow_up_share: float = 0.3
    follow_up_answer_share: float = 0.5
    # P(labelled category | true category); a row per true category (the oracle's confusion)
    label_noise: dict[str, dict[str, float]] | None = None
    question_tpr: float = 0.9  # P(labelled question | a question in form)
    question_fpr: float = 0.05  # P(labelled question | not a question)
    validation_per_class: int = 100  # simulated validation posts per true class (discourse, question)
    languages: dict[str, float] = field(default_factory=lambda: {"en": 0.8, "ar": 0.08, "es": 0.06, "fr": 0.06})
    host_handle: str = "SimHost"
    hashtag: str = "AskSimHost"
    start: str = "2015-03-13T12:00:00+00:00"

    def noise(self) -> dict[str, dict[str, float]]:
        if self.label_noise is not None:
            return self.label_noise
        matrix = {}
        for true in CATEGORIES:
            row = {c: 0.04 for c in CATEGORIES}
            row[true] = 0.80
            matrix[true] = row
        return matrix


# --- texts -------------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return [t.strip() for t in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def load_category_texts(data_dir: str | Path) -> dict[str, list[str]]:
    """Real texts for each category, from validation splits (and RumourEval dev/train replies)."""
    data = Path(data_dir)
    texts: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    te = data / "tweeteval"
    for task, label, category in (
        ("irony", "1", "mockery"),
        ("offensive", "1", "abuse"),
        ("hate", "1", "abuse"),
        ("sentiment", "2", "support"),
        ("sentiment", "1", "other"),
    ):
        for text, gold in zip(_lines(te / task / "val_text.txt"), _lines(te / task / "val_labels.txt")):
            if gold == label and text:
                texts[category].append(text)
    for split in ("dev", "train"):
        annotations = data / "rumoureval" / f"{split}-annotations" / "subtaskA.json"
        if not annotations.exists():
            continue
        stances = json.loads(annotations.read_text())
        for path in sorted((data / "rumoureval" / split).glob("*/*/replies/*.json")):
            stance = stances.get(path.stem)
            if stance not in ("query", "deny"):
                continue
            text = json.loads(path.read_text()).get("text", "")
            if stance == "query":
                texts["question_genuine"].append(text)
            elif "?" in text:
                texts["question_critical"].append(text)
    missing = [c for c, v in texts.items() if not v]
    if missing:
        raise FileNotFoundError(f"no texts for {missing} under {data}")
    return texts


def load_language_texts(data_dir: str | Path) -> dict[str, list[str]]:
    folders = {
        "ar": "arabic",
        "es": "spanish",
        "fr": "french",
        "de": "german",
        "hi": "hindi",
        "it": "italian",
        "pt": "portuguese",
    }
    return {lang: _lines(Path(data_dir) / "umsab" / folder / "val_text.txt") for lang, folder in folders.items()}


# --- the simulation ----------------------------------------------------------------------------


@dataclass
class Simulation:
    spec: SimulationSpec
    posts: list[Post]
    accounts: list[Account]
    truth: dict[str, dict[str, Any]]  # post id -> truth

    def realised(self) -> dict[str, Any]:
        """The campaign's realised truth: what the lenses should recover."""
        audience = [t for t in self.truth.values() if t["role"] in ("audience", "follow_up")]
        questions = [t for t in audience if t.get("is_question")]
        answered = [t for t in questions if t["answer_id"]]
        hostile = [t for t in audience if t["category"] in HOSTILE]
        latencies = sorted(t["latency_s"] for t in answered)
        return {
            "audience_posts": len(audience),
            "hostile_share": len(hostile) / len(audience) if audience else None,
            "category_shares": {c: sum(1 for t in audience if t["category"] == c) / len(audience) for c in CATEGORIES},
            "questions": len(questions),
            "answer_rate": len(answered) / len(questions) if questions else None,
            "latency_median_s": float(np.median(latencies)) if latencies else None,
            "latency_median_parameter_s": self.spec.latency_median_min * 60,
        }


def _snowflake(when: datetime, seq: int) -> str:
    ms = int(when.timestamp() * 1000)
    return str(((ms - 1288834974657) << 22) | (seq & 0x3FFFFF))


def simulate(
    spec: SimulationSpec, texts: dict[str, list[str]], language_texts: dict[str, list[str]] | None = None
) -> Simulation:
    """Run the simulation (deterministic for a given spec)."""
    rng = np.random.default_rng(spec.seed)
    start = datetime.fromisoformat(spec.start)
    window = spec.hours * 3600.0
    n_target = spec.posts
    participants = spec.participants or max(50, n_target // 3)
    # Hawkes cluster process: immigrants then offspring generations.
    immigrants = max(1, int(round(n_target * (1 - spec.branching))))
    shape = rng.beta(2.0, 3.0, size=immigrants)  # a session that rises fast and tails off
    times = list(np.sort(shape * window))
    parents: list[int] = [-1] * len(times)
    frontier = list(range(len(times)))
    decay = spec.decay_minutes * 60.0
    while frontier and len(times) < n_target * 1.2:
        nxt = []
        for index in frontier:
            for _ in range(rng.poisson(spec.branching)):
                t = times[index] + rng.exponential(decay)
                if t < window:
                    times.append(t)
                    parents.append(index)
                    nxt.append(len(times) - 1)
        frontier = nxt
    order = np.argsort(np.asarray(times), kind="stable")[:n_target]
    remap = {int(old): new for new, old in enumerate(order)}
    event_times = [times[int(old)] for old in order]
    event_parents = [remap.get(parents[int(old)], -1) if parents[int(old)] >= 0 else -1 for old in order]

    mix = np.asarray([spec.category_mix[c] for c in CATEGORIES], dtype=float)
    mix /= mix.sum()
    langs = list(spec.languages)
    lang_p = np.asarray([spec.languages[k] for k in langs], dtype=float)
    lang_p /= lang_p.sum()
    weights = 1.0 / np.arange(1, participants + 1) ** 0.7
    weights /= weights.sum()

    host_created = start - timedelta(days=2000)
    accounts = [
        Account(
            platform=PLATFORM,
            id=HOST_ID,
            handle=spec.host_handle,
            name="Simulated Host",
            created_at=host_created,
            followers_count=250_000,
            following_count=120,
            posts_count=9000,
            verified=True,
            location="",
            description="SYNTHETIC host account",
            observed_at=start,
        )
    ]
    user_ids = [str(2_000_000_000 + i) for i in range(participants)]
    for i, uid in enumerate(user_ids):
        age_days = int(rng.integers(1, 4000))
        accounts.append(
            Account(
                platform=PLATFORM,
                id=uid,
                handle=f"sim_user_{i}",
                name=f"Sim User {i}",
                created_at=start - timedelta(days=age_days),
                followers_count=int(rng.pareto(1.2) * 80),
                following_count=int(rng.integers(0, 3000)),
                posts_count=int(rng.integers(1, 50_000)),
                verified=False,
                location=str(rng.choice(["", "London", "Gaza", "Paris", "New York", "Cairo"])),
                description="SYNTHETIC account",
                observed_at=start,
            )
        )

    posts: list[Post] = []
    truth: dict[str, dict[str, Any]] = {}
    seq = 0
    observed = start + timedelta(hours=spec.hours + 24)

    def new_id(when: datetime) -> str:
        nonlocal seq
        seq += 1
        return _snowflake(when, seq)

    opening_time = start - timedelta(minutes=5)
    opening = Post(
        platform=PLATFORM,
        id=new_id(opening_time),
        author_id=HOST_ID,
        author_handle=spec.host_handle,
        created_at=opening_time,
        text=f"Ask us anything: we answer your questions under #{spec.hashtag}",
        lang="en",
        kind="post",
        hashtags=[spec.hashtag],
        like_count=int(rng.integers(100, 5000)),
        repost_count=int(rng.integers(50, 2000)),
        reply_count=0,
        quote_count=0,
        observed_at=observed,
        conversation_id=None,
        source_file=f"synthetic:seed{spec.seed}",
        source_line=0,
    )
    posts.append(opening)
    truth[opening.id] = {"role": "host", "category": "host", "answer_id": None, "latency_s": None}
    posts_by_id: dict[str, Post] = {opening.id: opening}
    pending_answers: list[Post] = []

    event_ids: list[str] = []
    pools = {c: texts[c] for c in CATEGORIES}
    n_events = len(event_times)
    # every per-post draw at once (vectorised; the same seed gives the same campaign)
    draw_author = rng.choice(participants, size=n_events, p=weights)
    draw_repost = rng.random(n_events)
    draw_category = rng.choice(len(CATEGORIES), size=n_events, p=mix)
    draw_lang = rng.choice(len(langs), size=n_events, p=lang_p)
    draw_text = rng.random(n_events)
    draw_roll = rng.random(n_events)
    for k, (offset, parent) in enumerate(zip(event_times, event_parents)):
        when = start + timedelta(seconds=float(offset))
        pid = new_id(when)
        author = user_ids[int(draw_author[k])]
        event_ids.append(pid)
        is_repost = draw_repost[k] < spec.repost_share and k > 0
        if is_repost:
            target_id = event_ids[parent] if parent >= 0 else opening.id
            target_post = posts_by_id.get(target_id, opening)
            target_id = target_post.id
            posts.append(
                Post(
                    platform=PLATFORM,
                    id=pid,
                    author_id=author,
                    author_handle=_handle(author),
                    created_at=when,
                    text=target_post.text,
                    lang=target_post.lang,
                    kind="repost",
                    reposted_id=target_id,
                    hashtags=list(target_post.hashtags),
                    mentions=[target_post.author_handle or ""],
                    like_count=0,
                    repost_count=0,
                    reply_count=0,
                    quote_count=0,
                    observed_at=observed,
                    source_file=f"synthetic:seed{spec.seed}",
                    source_line=k + 1,
                )
            )
            truth[pid] = {"role": "repost", "category": "repost", "answer_id": None, "latency_s": None}
            posts_by_id[pid] = posts[-1]
            continue
        category = CATEGORIES[int(draw_category[k])]
        lang = langs[int(draw_lang[k])]
        if lang != "en" and category in ("support", "other") and language_texts and language_texts.get(lang):
            body = language_texts[lang][int(draw_text[k] * len(language_texts[lang]))]
        else:
            lang = "en"
            body = pools[category][int(draw_text[k] * len(pools[category]))]
        body = body.replace("@user", "").strip()
        roll = draw_roll[k]
        if category in QUESTION_CATEGORIES or parent < 0:
            # addressed to the host: a reply to the opening post, a mention, or the hashtag alone
            if roll < 0.45:
                reply_to, reply_author = opening.id, HOST_ID
                text = f"@{spec.host_handle} {body}"
                mentions = [spec.host_handle]
            elif roll < 0.75:
                reply_to, reply_author = None, None
                text = f"@{spec.host_handle} {body} #{spec.hashtag}"
                mentions = [spec.host_handle]
            else:
                reply_to, reply_author = None, None
                text = f"{body} #{spec.hashtag}"
                mentions = []
        else:
            target = posts_by_id.get(event_ids[parent])
            if target is None or target.kind == "repost":
                reply_to, reply_author, mentions = opening.id, HOST_ID, [spec.host_handle]
                text = f"@{spec.host_handle} {body}"
            else:
                reply_to, reply_author = target.id, target.author_id
                mentions = [target.author_handle or ""]
                text = f"@{target.author_handle} {body}"
        hashtags = [spec.hashtag] if f"#{spec.hashtag}" in text else []
        post = Post(
            platform=PLATFORM,
            id=pid,
            author_id=author,
            author_handle=_handle(author),
            created_at=when,
            text=text,
            lang=lang,
            kind="reply" if reply_to else "post",
            in_reply_to_id=reply_to,
            in_reply_to_author_id=reply_author,
            conversation_id=opening.id if reply_to else pid,
            hashtags=hashtags,
            mentions=[m for m in mentions if m],
            like_count=int(rng.poisson(3 if category in HOSTILE else 2)),
            repost_count=int(rng.poisson(2.0 if category == "mockery" else 0.8)),
            reply_count=0,
            quote_count=0,
            observed_at=observed,
            source_file=f"synthetic:seed{spec.seed}",
            source_line=k + 1,
        )
        posts.append(post)
        posts_by_id[pid] = post
        truth[pid] = {
            "role": "audience",
            "category": category,
            "answer_id": None,
            "latency_s": None,
            "is_question": category in QUESTION_CATEGORIES,
        }
        # the host answers some questions (and rarely other posts)
        share = spec.answer_share.get(category, spec.reply_other)
        if rng.random() < share:
            latency = float(np.exp(np.log(spec.latency_median_min * 60) + spec.latency_sigma * rng.standard_normal()))
            answer_time = when + timedelta(seconds=latency)
            answer = Post(
                platform=PLATFORM,
                id=new_id(answer_time),
                author_id=HOST_ID,
                author_handle=spec.host_handle,
                created_at=answer_time,
                text=f"@{post.author_handle} Thank you for the question. Our answer: we are working on it.",
                lang="en",
                kind="reply",
                in_reply_to_id=pid,
                in_reply_to_author_id=author,
                conversation_id=post.conversation_id,
                mentions=[post.author_handle or ""],
                like_count=int(rng.poisson(20)),
                repost_count=int(rng.poisson(5)),
                reply_count=0,
                quote_count=0,
                observed_at=observed,
                source_file=f"synthetic:seed{spec.seed}",
                source_line=k + 1,
            )
            pending_answers.append(answer)
            truth[answer.id] = {"role": "host", "category": "host", "answer_id": None, "latency_s": None}
            truth[pid]["answer_id"] = answer.id
            truth[pid]["latency_s"] = (answer_time - when).total_seconds()
            if rng.random() < spec.follow_up_share:
                ft = answer_time + timedelta(seconds=float(rng.exponential(600)))
                follow = Post(
                    platform=PLATFORM,
                    id=new_id(ft),
                    author_id=author,
                    author_handle=post.author_handle,
                    created_at=ft,
                    text=f"@{spec.host_handle} And what about the rest of my question?",
                    lang="en",
                    kind="reply",
                    in_reply_to_id=answer.id,
                    in_reply_to_author_id=HOST_ID,
                    conversation_id=post.conversation_id,
                    mentions=[spec.host_handle],
                    like_count=0,
                    repost_count=0,
                    reply_count=0,
                    quote_count=0,
                    observed_at=observed,
                    source_file=f"synthetic:seed{spec.seed}",
                    source_line=k + 1,
                )
                pending_answers.append(follow)
                truth[follow.id] = {
                    "role": "follow_up",
                    "category": "question_genuine",
                    "answer_id": None,
                    "latency_s": None,
                    "is_question": True,
                }
                if rng.random() < spec.follow_up_answer_share:
                    at = ft + timedelta(seconds=float(rng.exponential(900)))
                    again = Post(
                        platform=PLATFORM,
                        id=new_id(at),
                        author_id=HOST_ID,
                        author_handle=spec.host_handle,
                        created_at=at,
                        text=f"@{post.author_handle} Fair point, here is more.",
                        lang="en",
                        kind="reply",
                        in_reply_to_id=follow.id,
                        in_reply_to_author_id=author,
                        conversation_id=post.conversation_id,
                        mentions=[post.author_handle or ""],
                        like_count=1,
                        repost_count=0,
                        reply_count=0,
                        quote_count=0,
                        observed_at=observed,
                        source_file=f"synthetic:seed{spec.seed}",
                        source_line=k + 1,
                    )
                    pending_answers.append(again)
                    truth[again.id] = {"role": "host", "category": "host", "answer_id": None, "latency_s": None}
                    truth[follow.id]["answer_id"] = again.id
                    truth[follow.id]["latency_s"] = (at - ft).total_seconds()
    posts.extend(pending_answers)
    posts.sort(key=lambda p: (p.created_at, p.id))
    return Simulation(spec=spec, posts=posts, accounts=accounts, truth=truth)


def _handle(author_id: str) -> str:
    return f"sim_user_{int(author_id) - 2_000_000_000}"


# --- labels from the truth, through a known confusion matrix -----------------------------------


def _uniform(seed: int, key: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


DERIVED = {  # the other tasks follow from the (labelled) category
    "sentiment": {"support": "positive", "abuse": "negative", "mockery": "negative", "question_critical": "negative"},
    "irony": {"mockery": "irony"},
    "offensive": {"abuse": "offensive"},
    "emotion": {"abuse": "anger", "question_critical": "anger", "support": "joy", "mockery": "anger"},
}
DEFAULTS = {
    "sentiment": "neutral",
    "irony": "non_irony",
    "offensive": "not-offensive",
    "hate": "not-hate",
    "emotion": "optimism",
}


class TruthLabeler:
    """Labels a simulated campaign from its truth through the spec's confusion matrices."""

    name = "simulation-truth"

    def __init__(self, spec: SimulationSpec, truth: dict[str, dict[str, Any]], langs: dict[str, str]) -> None:
        self.spec = spec
        self.truth = truth
        self.langs = langs

    def versions(self) -> dict[str, str]:
        return {
            task: f"simulation-truth-{task}@seed{self.spec.seed}"
            for task in ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")
        }

    def _category(self, post_id: str) -> str:
        true = self.truth.get(post_id, {}).get("category", "other")
        if true not in CATEGORIES:
            return "other"
        row = self.spec.noise()[true]
        u = _uniform(self.spec.seed, post_id, "category")
        acc = 0.0
        for category in CATEGORIES:
            acc += row.get(category, 0.0) / sum(row.values())
            if u < acc:
                return category
        return CATEGORIES[-1]

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[list[str], np.ndarray]]:
        categories = [self._category(pid) for _, pid in keys]
        questions = []
        for _, pid in keys:
            is_question = bool(self.truth.get(pid, {}).get("is_question"))
            u = _uniform(self.spec.seed, pid, "question")
            questions.append(
                "question"
                if u < (self.spec.question_tpr if is_question else self.spec.question_fpr)
                else "not-question"
            )
        out: dict[str, tuple[list[str], np.ndarray]] = {}
        ones = np.ones(len(keys))
        out["discourse"] = (categories, ones * 0.8)
        out["question"] = (questions, ones * 0.9)
        for task, default in DEFAULTS.items():
            mapping = DERIVED.get(task, {})
            out[task] = ([mapping.get(c, default) for c in categories], ones * 0.8)
        out["language"] = ([self.langs.get(pid, "und") for _, pid in keys], ones)
        return out

    def validation(self) -> dict[str, Validation]:
        """A simulated validation set per task, drawn from the spec's confusion matrices:
        ``validation_per_class`` posts of each true discourse category (and as many questions and
        non-questions), each labelled through the same noise as the campaign's posts. Seeded."""
        from askscope.classify.quantify import Validation

        rng = np.random.default_rng([self.spec.seed, 1_000_003])
        per = self.spec.validation_per_class
        noise = self.spec.noise()
        gold, predicted = [], []
        for i, true in enumerate(CATEGORIES):
            row = np.asarray([noise[true].get(c, 0.0) for c in CATEGORIES], dtype=np.float64)
            gold += [i] * per
            predicted += rng.choice(len(CATEGORIES), size=per, p=row / row.sum()).tolist()
        discourse = Validation(
            "discourse",
            CATEGORIES,
            np.asarray(gold),
            np.asarray(predicted),
            method="acc",
            data=f"simulated: {per} posts per category through the spec's confusion matrix",
        )
        is_question = np.asarray([0] * per + [1] * per)
        flagged = rng.random(2 * per) < np.where(is_question == 1, self.spec.question_tpr, self.spec.question_fpr)
        question = Validation(
            "question",
            ("not-question", "question"),
            is_question,
            flagged.astype(np.int64),
            method="acc",
            data=f"simulated: {per} questions and {per} other posts",
        )
        return {"discourse": discourse, "question": question}

    def error_rates(self) -> dict[str, dict[str, dict[str, float]]]:
        """Error rates as measured on the simulated validation sets (not the spec's exact ones)."""
        from askscope.classify.quantify import validation_rates

        return {task: validation_rates(data) for task, data in self.validation().items()}


# --- writing a campaign store ------------------------------------------------------------------


def write_campaign(path: str | Path, spec: SimulationSpec, data_dir: str | Path) -> Simulation:
    """Simulate and write a SYNTHETIC campaign store, with its truth in ``sim_truth``/``sim_spec``."""
    simulation = simulate(spec, load_category_texts(data_dir), load_language_texts(data_dir))
    store = open_store(path)
    try:
        store.con.execute("BEGIN TRANSACTION")
        record = begin_ingest(
            store,
            source_file=f"synthetic:seed{spec.seed}",
            source_path=None,
            source_size=None,
            source_mtime=None,
            format="synthetic",
            compression=None,
            options="{}",
            transaction=False,
        )
        accounts_written = False
        for start in range(0, len(simulation.posts), 50_000):
            sink = Sink(source_file=f"synthetic:seed{spec.seed}")
            sink.matches = simulation.posts[start : start + 50_000]
            if not accounts_written:
                sink.accounts = list(simulation.accounts)
                accounts_written = True
            write_batch(store, record, build_batch(sink, compress=False), transaction=False)
        finish_ingests(store, [record], status="done", sha256=None, bytes_read=None, transaction=False)
        _write_truth(store, simulation)
        store.con.execute("COMMIT")
    except BaseException:
        store.con.execute("ROLLBACK")
        raise
    finally:
        store.close()
    return simulation


def _write_truth(store: Store, simulation: Simulation) -> None:
    import pyarrow as pa

    ids = list(simulation.truth)
    table = pa.table(
        {
            "platform": [PLATFORM] * len(ids),
            "post_id": ids,
            "role": [simulation.truth[i]["role"] for i in ids],
            "category": [simulation.truth[i]["category"] for i in ids],
            "is_question": [bool(simulation.truth[i].get("is_question")) for i in ids],
            "answer_id": [simulation.truth[i]["answer_id"] for i in ids],
            "latency_s": pa.array([simulation.truth[i]["latency_s"] for i in ids], pa.float64()),
        }
    )
    store.con.register("_truth", table)
    try:
        store.con.execute("CREATE OR REPLACE TABLE sim_truth AS SELECT * FROM _truth")
    finally:
        store.con.unregister("_truth")
    store.con.execute(
        "CREATE OR REPLACE TABLE sim_spec AS SELECT ? AS spec, ? AS realised",
        [json.dumps(asdict(simulation.spec), sort_keys=True), json.dumps(simulation.realised(), sort_keys=True)],
    )


def campaign_file(spec: SimulationSpec) -> dict[str, Any]:
    """The campaign settings of a simulated campaign (for ``parse_campaign``)."""
    start = datetime.fromisoformat(spec.start)
    return {
        "name": f"SYNTHETIC {spec.hashtag}",
        "hosts": [spec.host_handle],
        "hashtags": [spec.hashtag],
        "start": (start - timedelta(minutes=10)).isoformat(),
        "end": (start + timedelta(hours=spec.hours + 48)).isoformat(),
    }


def truth_labeler(path: str | Path, spec: SimulationSpec) -> TruthLabeler:
    """The :class:`TruthLabeler` of a simulated store (reads ``sim_truth`` and languages)."""
    store = open_store(path, read_only=True)
    try:
        rows = store.con.execute(
            "SELECT t.post_id, t.role, t.category, t.is_question, t.answer_id, t.latency_s, p.lang "
            "FROM sim_truth t JOIN posts p ON p.id = t.post_id"
        ).fetchall()
    finally:
        store.close()
    truth = {
        r[0]: {"role": r[1], "category": r[2], "is_question": r[3], "answer_id": r[4], "latency_s": r[5]} for r in rows
    }
    return TruthLabeler(spec, truth, {r[0]: r[6] or "und" for r in rows})
