"""``askscope serve``: the local web app on one or more stores (:mod:`askscope.web`)."""

from __future__ import annotations

import ipaddress
import os

import click

from askscope.errors import UsageError


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.argument("dbs", nargs=-1, required=True, metavar="DB [DB...]")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only by default).")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--token",
    default=None,
    help="Access token every request must carry (?token=T once, then a cookie); 'auto' generates one. Required "
    "when --host is not a loopback address.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the app in the default browser.")
def serve(dbs: tuple[str, ...], host: str, port: int, token: str | None, open_browser: bool) -> None:
    """Serve the web app on DB (several stores: a store picker and the comparison page).

    The stores are read through snapshots: an ingest or analyze may write them meanwhile, and the
    pages say when they show data from before it.
    """
    for db in dbs:
        if not os.path.isfile(db):
            raise UsageError(f"no store at {db}", f"create one with: askscope ingest {db} FILE...")
    if not is_loopback(host) and token is None:
        raise UsageError(
            f"--host {host} lets other machines reach the app, and it has no token",
            "give --token T (8 characters or more) or --token auto to have one generated; "
            "or leave --host out to listen on 127.0.0.1 only",
        )
    if token == "auto":
        from askscope.web.security import new_token

        token = new_token()
    elif token is not None and len(token) < 8:
        raise UsageError("--token is shorter than 8 characters", "give a longer token, or --token auto to get one")
    import uvicorn

    from askscope.web.app import create_app

    app = create_app(list(dbs), token=token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"askscope serving {', '.join(dbs)} at {url}", err=True)
    click.echo("Press Ctrl+C to stop.", err=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run()
