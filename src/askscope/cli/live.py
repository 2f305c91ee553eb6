"""``askscope live``: the live console of a Q&A session (intake + the web app's ``/live`` page)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from askscope.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover - types only
    from types import FrameType

    from askscope.campaign import Campaign
    from askscope.collect.plan import Plan
    from askscope.live.console import LiveConsole
    from askscope.live.intake import Intake


@click.command("live")
@click.argument("campaign_file", metavar="CAMPAIGN.toml", type=click.Path(dir_okay=False))
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="The session's store (created if missing).")
@click.option("--replay", "replay", default=None, type=click.Path(), help="Replay this recorded campaign file.")
@click.option(
    "--speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True, help="Replay speed factor."
)
@click.option(
    "--source",
    type=click.Choice(["x", "mastodon", "bluesky", "reddit"]),
    default=None,
    help="Collect continuously from this platform's API (with --query, --thread, --instance/--tag).",
)
@click.option("--query", default=None, help="X or Bluesky search query (default: the campaign's hashtags and hosts).")
@click.option("--thread", default=None, help="A post or thread to follow (X conversation id, Bluesky/Reddit/Mastodon).")
@click.option("--instance", default=None, help="Mastodon instance (host or URL).")
@click.option("--tag", default=None, help="Mastodon hashtag (default: the campaign's first hashtag).")
@click.option(
    "--poll", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Seconds between collection passes."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web app listens on.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(0, 65535), help="Port of the web app.")
@click.option("--token", default=None, help="Access token of the web app ('auto' generates one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the /live page in the browser.")
@click.option(
    "--labeler",
    default="bundled",
    show_default=True,
    help="The labeler of new posts (bundled-fast: the fast model set; askscope plugins lists the installed ones).",
)
@click.option("--no-serve", is_flag=True, help="Run the intake only (no web app) and print the pulse when done.")
@click.option("--json", "as_json", is_flag=True, help="With --no-serve: print the pulse as JSON.")
def live(
    campaign_file: str,
    db: str,
    replay: str | None,
    speed: float,
    source: str | None,
    query: str | None,
    thread: str | None,
    instance: str | None,
    tag: str | None,
    poll: float,
    host: str,
    port: int,
    token: str | None,
    open_browser: bool,
    labeler: str,
    no_serve: bool,
    as_json: bool,
) -> None:
    """Run a Q&A session live: store, classify and link new posts as they come, and serve the
    queue of questions to the host, the pulse and the alerts on /live.

    Replay a recorded campaign (--replay FILE --speed N, for rehearsals and tests) or collect
    continuously (--source PLATFORM). Stop with Ctrl+C; the same command resumes where it
    stopped. Afterwards the store is an ordinary campaign store: askscope analyze and report run
    on it, and the team's actions are in the table live_actions.
    """
    from askscope.campaign import load_campaign
    from askscope.cli.serve import is_loopback

    if bool(replay) == bool(source):
        raise UsageError(
            "give either --replay FILE or --source PLATFORM",
            "askscope live CAMPAIGN.toml --db DB --replay recorded.jsonl --speed 20 (or --source x --query ...)",
        )
    if not no_serve and not is_loopback(host) and token is None:
        raise UsageError(
            f"--host {host} lets other machines reach the console, and it has no token",
            "give --token T (8 characters or more) or --token auto; or leave --host out",
        )
    if token is not None and token != "auto" and len(token) < 8:
        raise UsageError("--token is shorter than 8 characters", "give a longer token, or --token auto to get one")
    campaign = load_campaign(campaign_file)
    from askscope.stages.labeling import get_labeler

    chosen = get_labeler(labeler)  # an unknown name is a user error before anything is opened
    intake: Intake
    if replay:
        from askscope.live.intake import ReplayIntake

        intake = ReplayIntake(replay, speed, progress=_replay_progress if no_serve else None)
    else:
        intake = _collect_intake(
            source or "", campaign, query=query, thread=thread, instance=instance, tag=tag, poll=poll
        )
    from askscope.live.console import LiveConsole

    console = LiveConsole.open(db, campaign, labeler=chosen)
    try:
        if no_serve:
            _run_here(console, intake, as_json)
        else:
            _serve(console, intake, db, host, port, token, open_browser)
    finally:
        console.close()


def _replay_progress(done: int, total: int) -> None:
    click.echo(f"replayed {done} of {total} records", err=True)


def _run_here(console: LiveConsole, intake: Intake, as_json: bool) -> None:
    import threading

    from askscope.cli.common import dumps

    stop = threading.Event()
    try:
        intake.run(console, stop)
    except KeyboardInterrupt:
        stop.set()
        click.echo("Stopped: run the same command to resume.", err=True)
        raise SystemExit(130) from None
    pulse = console.pulse()
    if as_json:
        click.echo(dumps({"pulse": pulse, "alerts": console.alerts()}))
        return
    i = pulse["intake"]
    rate = pulse["answer_rate"]
    click.echo(
        f"{intake.source_name}: stored {i['stored']:,}, rejected {i['rejected']:,}; "
        f"{pulse['questions']:,} questions to the host, {pulse['answered']:,} answered"
        + (f" ({rate['estimate']:.0%})" if rate["estimate"] is not None else "")
        + f", {pulse['waiting']:,} waiting; {len(console.alerts())} alerts"
    )


def _serve(
    console: LiveConsole, intake: Intake, db: str, host: str, port: int, token: str | None, open_browser: bool
) -> None:
    import uvicorn

    from askscope.live.intake import run_in_thread
    from askscope.web.app import create_app

    if token == "auto":
        from askscope.web.security import new_token

        token = new_token()

    def on_error(exc: BaseException) -> None:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        click.echo(f"Error: the intake stopped: {message} (the console stays up; restart to resume)", err=True)

    thread, stop = run_in_thread(console, intake, on_error)
    app = create_app([db], token=token, live=console)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/live" + (f"?token={token}" if token else "")
    click.echo(f"askscope live: {intake.source_name} into {db}; the console is at {url}", err=True)
    click.echo("Press Ctrl+C to stop (the same command resumes).", err=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    from askscope.web.routes.live import stop_streams

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            stop_streams(app)  # the open pages' event streams end at once, so the server stops
            stop.set()
            super().handle_exit(sig, frame)

    try:
        Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)).run()
    finally:
        stop.set()
        thread.join(timeout=30)


def _collect_intake(
    source: str,
    campaign: Campaign,
    *,
    query: str | None,
    thread: str | None,
    instance: str | None,
    tag: str | None,
    poll: float,
) -> Intake:
    """The collector's plan and HTTP client for ``--source`` (credentials as askscope collect)."""
    from askscope.cli.collect import BACKOFF_ENV
    from askscope.collect.http import CredentialsError, HttpClient, Limits
    from askscope.live.intake import CollectIntake

    headers: dict[str, str] | None = None
    hint = "check the platform's credentials (see askscope collect --help)"
    plan: Plan
    tags = [f"#{t}" for t in campaign.hashtags]
    hosts = [r.value for r in campaign.hosts]
    if source == "x":
        from askscope.collect.x import XSearch

        bearer = os.environ.get("ASKSCOPE_X_BEARER_TOKEN", "").strip()
        if not bearer:
            raise CredentialsError("no X bearer token", "export ASKSCOPE_X_BEARER_TOKEN=... (the token of your X app)")
        default = " OR ".join([*tags, *(f"@{h}" for h in hosts)])
        plan = XSearch(None if thread else (query or default), conversation=thread)
        headers = {"Authorization": f"Bearer {bearer}"}
        hint = "check ASKSCOPE_X_BEARER_TOKEN"
    elif source == "mastodon":
        from askscope.collect.mastodon import MastodonContext, MastodonHashtag

        if not instance:
            raise UsageError("--source mastodon needs --instance", "e.g. --instance mastodon.social --tag AskX")
        chosen = tag or (campaign.hashtags[0] if campaign.hashtags else None)
        if thread:
            plan = MastodonContext(instance, thread)
        elif chosen:
            plan = MastodonHashtag(instance, chosen.lstrip("#"))
        else:
            raise UsageError("no hashtag to follow on Mastodon", "give --tag or --thread, or hashtags in the campaign")
        mastodon_token = os.environ.get("ASKSCOPE_MASTODON_TOKEN", "").strip()
        headers = {"Authorization": f"Bearer {mastodon_token}"} if mastodon_token else None
    elif source == "bluesky":
        from askscope.collect.bluesky import BlueskySearch, BlueskyThread

        plan = BlueskyThread(thread) if thread else BlueskySearch(query or " ".join(tags or hosts))
    else:
        from askscope.collect.reddit import RedditThread

        if not thread:
            raise UsageError("--source reddit needs --thread", "give the thread's URL or id")
        plan = RedditThread(thread)
    backoff = float(os.environ.get(BACKOFF_ENV, "1.0"))

    def on_wait(seconds: float, why: str) -> None:
        click.echo(f"Waiting {seconds:.1f}s: {why}", err=True)

    client = HttpClient(
        platform=plan.platform, headers=headers, auth_hint=hint, on_wait=on_wait, limits=Limits(backoff=backoff)
    )
    return CollectIntake(plan, client, poll_s=poll)
