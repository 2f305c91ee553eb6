"""``askscope collect``: the command-line layer over the collectors (one subcommand a platform)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from askscope.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover - types only
    from askscope.collect.plan import Plan
    from askscope.collect.runner import CollectResult

#: First backoff wait in seconds (doubling per retry, with jitter); tests set it small.
BACKOFF_ENV = "ASKSCOPE_COLLECT_BACKOFF"


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--max-requests",
            type=click.IntRange(min=1),
            default=None,
            help="Stop after this many responses (the next run resumes from there).",
        ),
        click.option(
            "--tries",
            type=click.IntRange(min=1),
            default=8,
            show_default=True,
            help="Attempts per request before giving up (429, 5xx, timeouts, dropped connections).",
        ),
        click.option(
            "--max-wait",
            type=click.FloatRange(min=0),
            default=900.0,
            show_default=True,
            help="Longest single wait in seconds (backoff or rate-limit reset).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Seconds to wait for a response before retrying.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        click.option("--progress/--no-progress", default=True, help="Show progress on stderr (terminals only)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group("collect")
def collect_command() -> None:
    """Collect posts live from X, Mastodon, Bluesky or Reddit into the store DB.

    Every response is stored with a checkpoint: run the same command again to resume after a
    stop or a crash (nothing is fetched or stored twice), or after it finished to fetch what is
    new. Rate limits are honoured and failures retried with backoff.
    """


def _run(
    db: str,
    plan: Plan,
    *,
    headers: dict[str, str] | None,
    auth_hint: str,
    max_requests: int | None,
    tries: int,
    max_wait: float,
    timeout: float,
    as_json: bool,
    progress: bool,
) -> None:
    from askscope.collect.http import HttpClient, Limits
    from askscope.collect.runner import collect

    backoff = float(os.environ.get(BACKOFF_ENV, "1.0"))

    def on_wait(seconds: float, why: str) -> None:
        click.echo(f"Waiting {seconds:.1f}s: {why}", err=True)

    client = HttpClient(
        platform=plan.platform,
        headers=headers,
        auth_hint=auth_hint,
        on_wait=on_wait,
        limits=Limits(tries=tries, backoff=backoff, max_wait=max_wait, timeout=timeout),
    )
    try:
        with _Progress(progress, plan.task) as bar:
            result = collect(db, plan, client, max_requests=max_requests, progress=bar)
    finally:
        client.close()
    click.echo(_dumps(result.as_dict()) if as_json else _summary(db, result))


def _summary(db: str, result: CollectResult) -> str:
    c = result.counts
    state = "complete" if result.done else "paused (run the same command again to resume)"
    lines = [
        f"{result.task}: {result.responses:,} responses stored, {state}",
        f"read {c.read:,} = new {c.new:,} + updated {c.updated:,} + unchanged {c.unchanged:,} + rejected {c.rejected:,} "
        f"({c.context_new:,} context posts added, {c.accounts_new:,} accounts added)",
    ]
    if result.retries:
        lines.append("retried: " + ", ".join(f"{k} {v}" for k, v in sorted(result.retries.items())))
    if result.completeness is not None:
        lines.append(result.completeness.summary())
    return "\n".join(lines)


def _dumps(value: Any) -> str:
    from askscope.cli.common import dumps

    return dumps(value)


class _Progress:
    """A live count of responses and new posts on stderr (terminals only)."""

    def __init__(self, enabled: bool, task: str) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.task = task
        self._progress: Any = None
        self._id: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._id = self._progress.add_task(self.task)
        return self

    def __call__(self, responses: int, new: int, url: str) -> None:
        if self._progress is not None:
            self._progress.update(self._id, description=f"{self.task}: {responses:,} responses, {new:,} new posts")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


@collect_command.command("x")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("query", required=False)
@click.option("--conversation", default=None, metavar="ID", help="Fetch the whole conversation of this post id.")
@click.option("--archive", is_flag=True, help="Full-archive search (/2/tweets/search/all) instead of the last 7 days.")
@click.option("--start-time", default=None, help="Oldest time to search from (ISO 8601, e.g. 2024-05-01T00:00:00Z).")
@click.option("--end-time", default=None, help="Newest time to search to (ISO 8601).")
@click.option("--api-url", envvar="ASKSCOPE_X_API_URL", default=None, help="API base URL (default https://api.x.com).")
@_common
def collect_x(
    db: str,
    query: str | None,
    conversation: str | None,
    archive: bool,
    start_time: str | None,
    end_time: str | None,
    api_url: str | None,
    **common: Any,
) -> None:
    """Search X (API v2) for QUERY, or fetch a conversation, into DB. Needs ASKSCOPE_X_BEARER_TOKEN."""
    from askscope.collect.http import CredentialsError
    from askscope.collect.x import XSearch

    token = os.environ.get("ASKSCOPE_X_BEARER_TOKEN", "").strip()
    if not token:
        raise CredentialsError("no X bearer token", "export ASKSCOPE_X_BEARER_TOKEN=... (the token of your X app)")
    plan = XSearch(
        query, conversation=conversation, archive=archive, api_url=api_url, start_time=start_time, end_time=end_time
    )
    _run(
        db,
        plan,
        headers={"Authorization": f"Bearer {token}"},
        auth_hint="check ASKSCOPE_X_BEARER_TOKEN; full-archive search needs an access level that includes it",
        **common,
    )


@collect_command.command("mastodon")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("instance")
@click.option("--tag", default=None, help="Collect this hashtag's timeline (without #).")
@click.option(
    "--status", default=None, metavar="ID", help="Collect this status and its whole context (id or URL on INSTANCE)."
)
@_common
def collect_mastodon(db: str, instance: str, tag: str | None, status: str | None, **common: Any) -> None:
    """Collect a hashtag timeline or a status's context from the Mastodon INSTANCE into DB.

    INSTANCE is a host (mastodon.social) or a base URL. ASKSCOPE_MASTODON_TOKEN is optional.
    """
    from askscope.collect.mastodon import MastodonContext, MastodonHashtag

    if bool(tag) == bool(status):
        raise UsageError("give either --tag or --status", "askscope collect mastodon --help")
    plan: Plan = MastodonHashtag(instance, tag) if tag else MastodonContext(instance, status or "")
    token = os.environ.get("ASKSCOPE_MASTODON_TOKEN", "").strip()
    _run(
        db,
        plan,
        headers={"Authorization": f"Bearer {token}"} if token else None,
        auth_hint="check ASKSCOPE_MASTODON_TOKEN, or unset it: public timelines need no token on most instances",
        **common,
    )


@collect_command.command("bluesky")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--search", "query", default=None, help="Collect the posts searchPosts finds for this query.")
@click.option("--thread", default=None, help="Collect this post's whole thread (at:// URI or bsky.app URL).")
@click.option("--handle", default=None, help="Sign in as this handle (with ASKSCOPE_BLUESKY_APP_PASSWORD).")
@click.option(
    "--api-url",
    envvar="ASKSCOPE_BLUESKY_API_URL",
    default=None,
    help="AppView base URL (default https://public.api.bsky.app; with --handle the PDS).",
)
@click.option(
    "--pds-url",
    envvar="ASKSCOPE_BLUESKY_PDS_URL",
    default="https://bsky.social",
    show_default=True,
    help="Where --handle signs in.",
)
@_common
def collect_bluesky(
    db: str, query: str | None, thread: str | None, handle: str | None, api_url: str | None, pds_url: str, **common: Any
) -> None:
    """Collect a Bluesky search or a whole thread into DB (public API; an app password is optional)."""
    from askscope.collect.bluesky import BlueskySearch, BlueskyThread
    from askscope.collect.http import CredentialsError

    if bool(query) == bool(thread):
        raise UsageError("give either --search or --thread", "askscope collect bluesky --help")
    password = os.environ.get("ASKSCOPE_BLUESKY_APP_PASSWORD", "").strip() or None
    if handle and not password:
        raise CredentialsError(
            "--handle needs an app password", "export ASKSCOPE_BLUESKY_APP_PASSWORD=... (Settings > App passwords)"
        )
    plan: Plan
    if query:
        plan = BlueskySearch(query, api_url=api_url, handle=handle, password=password, pds_url=pds_url)
    else:
        plan = BlueskyThread(thread or "", api_url=api_url, handle=handle, password=password, pds_url=pds_url)
    _run(db, plan, headers=None, auth_hint="check --handle and ASKSCOPE_BLUESKY_APP_PASSWORD", **common)


@collect_command.command("reddit")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("thread")
@click.option(
    "--api-url",
    envvar="ASKSCOPE_REDDIT_API_URL",
    default=None,
    help="API base URL (default https://www.reddit.com, or https://oauth.reddit.com with app credentials).",
)
@click.option(
    "--token-url",
    envvar="ASKSCOPE_REDDIT_TOKEN_URL",
    default="https://www.reddit.com/api/v1/access_token",
    show_default=True,
    help="Where app credentials get a token.",
)
@_common
def collect_reddit(db: str, thread: str, api_url: str | None, token_url: str, **common: Any) -> None:
    """Collect a whole Reddit THREAD (URL or id), expanding every 'more' stub, into DB.

    ASKSCOPE_REDDIT_CLIENT_ID and ASKSCOPE_REDDIT_CLIENT_SECRET are optional (higher rate limits).
    """
    from askscope.collect.http import CredentialsError
    from askscope.collect.reddit import RedditThread

    client_id = os.environ.get("ASKSCOPE_REDDIT_CLIENT_ID", "").strip() or None
    secret = os.environ.get("ASKSCOPE_REDDIT_CLIENT_SECRET", "").strip() or None
    if bool(client_id) != bool(secret):
        raise CredentialsError(
            "Reddit app credentials need both the client id and the secret",
            "export ASKSCOPE_REDDIT_CLIENT_ID=... and ASKSCOPE_REDDIT_CLIENT_SECRET=...",
        )
    plan = RedditThread(thread, api_url=api_url, client_id=client_id, client_secret=secret, token_url=token_url)
    _run(
        db,
        plan,
        headers=None,
        auth_hint="check ASKSCOPE_REDDIT_CLIENT_ID and ASKSCOPE_REDDIT_CLIENT_SECRET (a 'script' or 'web' app)",
        **common,
    )


@collect_command.command("status")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def collect_status(db: str, as_json: bool) -> None:
    """Show the collections in DB (checkpoints) and how complete each platform's reply trees are."""
    from askscope.collect.checkpoint import all_checkpoints
    from askscope.collect.completeness import completeness
    from askscope.store.core import open_store

    with open_store(db, read_only=True) as store:
        checkpoints = all_checkpoints(store)
        platforms = sorted({row[0] for row in store.con.execute("SELECT DISTINCT platform FROM posts").fetchall()})
        trees = [completeness(store, p) for p in platforms]
    if as_json:
        click.echo(
            _dumps(
                {
                    "collections": [
                        {
                            "task": c.task,
                            "platform": c.platform,
                            "status": c.status,
                            "responses": c.responses,
                            "posts": c.posts,
                        }
                        for c in checkpoints
                    ],
                    "completeness": [t.as_dict() for t in trees],
                }
            )
        )
        return
    for c in checkpoints:
        click.echo(f"{c.task}: {c.status}, {c.responses:,} responses, {c.posts:,} new posts")
    if not checkpoints:
        click.echo("no collections in this store")
    for tree in trees:
        click.echo(tree.summary())
