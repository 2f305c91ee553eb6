"""``askscope authenticity DB``: lens 4 from the command line (a thin layer over the stage)."""

from __future__ import annotations

import sys
from typing import Any

import click

from askscope.authenticity.settings import NETWORKS, AuthenticitySettings


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command("authenticity")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option(
    "--campaign",
    "campaign_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Campaign file (TOML): its window limits the posts (default: the data's own range).",
)
@click.option(
    "--networks", default=",".join(NETWORKS), show_default=True, help="Comma-separated co-action networks to compute."
)
@click.option(
    "--tau",
    default="60",
    show_default=True,
    help="Coordination interval in seconds, or 'auto' for CooRnet's estimate from the data.",
)
@click.option(
    "--similarity",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="co_similar: Jaccard threshold on token sets.",
)
@click.option(
    "--null-runs",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Runs of the null model (timestamps shuffled within the window).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the null model.")
@click.option(
    "--min-weight",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Fewest co-actions for an edge to be significant.",
)
@click.option(
    "--max-crowd",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="An action makes no edges when more than this many actions on the same object lie within "
    "tau of it (a crowd); 0 keeps every pair, as the QUT toolkit does.",
)
@click.option(
    "--fdr",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Largest expected share of null edges among the significant ones.",
)
@click.option(
    "--hypergeometric", is_flag=True, help="Also require the hypergeometric test with Benjamini-Hochberg correction."
)
@click.option(
    "--groups",
    type=click.Choice(["components", "leiden"]),
    default="components",
    show_default=True,
    help="Groups: connected components or Leiden communities of significant edges.",
)
@click.option(
    "--hostile-sql",
    default=None,
    help="SQL returning platform, post_id of hostile posts (default: the classify stage's labels).",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write GEXF, GraphML and Parquet files of the networks into this folder.",
)
@click.option("--significant-only", is_flag=True, help="Export only significant edges.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def authenticity_command(
    db: str,
    campaign_file: str | None,
    networks: str,
    tau: str,
    similarity: float,
    null_runs: int,
    seed: int,
    min_weight: int,
    max_crowd: int,
    fdr: float,
    hypergeometric: bool,
    groups: str,
    hostile_sql: str | None,
    export_dir: str | None,
    significant_only: bool,
    as_json: bool,
) -> None:
    """Coordinated and automated participation (lens 4): co-action networks (co_repost, co_post,
    co_similar, co_link, co_reply) within tau, their false-positive floor from shuffled
    timestamps, coordinated groups and their share of the posts, near-duplicate clusters, bursts
    and account signals. Writes the tables coaction_edges, coordinated_accounts, ... into DB."""
    from askscope.analysis import analyze
    from askscope.authenticity.exports import export
    from askscope.authenticity.settings import AuthenticityError
    from askscope.authenticity.stage import Authenticity
    from askscope.campaign import Campaign, load_campaign
    from askscope.cli.common import dumps
    from askscope.store.core import open_store

    if tau.strip().lower() == "auto":
        tau_value: float | None = None
    else:
        try:
            tau_value = float(tau)
        except ValueError:
            raise AuthenticityError(
                f"--tau must be a number of seconds or 'auto', not {tau!r}", "for example: --tau 60"
            ) from None
    settings = AuthenticitySettings.from_mapping(
        {
            "networks": networks,
            "tau": tau_value,
            "similarity": similarity,
            "null_runs": null_runs,
            "seed": seed,
            "min_weight": min_weight,
            "max_crowd": max_crowd or None,
            "fdr": fdr,
            "hypergeometric": hypergeometric,
            "groups": groups,
            "hostile_sql": hostile_sql,
        }
    )
    campaign = load_campaign(campaign_file) if campaign_file else Campaign(name="(no campaign file)", hosts=())
    with open_store(db, create=False) as store:
        # through analyze(), like the other stages: the same memory limit and stage contracts
        summaries = analyze(
            store, campaign, only=[Authenticity.name], settings={"authenticity": settings.as_dict()}, progress=_say
        )
        summary = summaries[Authenticity.name]
        written = export(store.con, export_dir, settings.networks, significant_only) if export_dir else []
    if written:
        summary = dict(summary, exported=written)
    click.echo(dumps(summary) if as_json else format_summary(summary))


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a short text report."""
    pop = summary["population"]
    lines = [
        f"Population ({pop['source']}): {pop['posts']:,} posts, {pop['reposts']:,} reposts, "
        f"{pop['accounts']:,} accounts, {pop['start']} .. {pop['end']}",
        "",
        f"{'network':<11} {'tau s':>7} {'edges':>9} {'pairs':>9} {'floor':>8} {'w*':>4} {'signif.':>8} "
        f"{'accounts':>8} {'(null)':>7} {'groups':>6} {'share':>7}",
    ]
    for name, n in summary["networks"].items():
        floor = n["null_floor"]["pairs_mean"] if n["null_floor"] else 0
        threshold = "-" if n["threshold_weight"] is None else str(n["threshold_weight"])
        lines.append(
            f"{name:<11} {n['tau_seconds']:>7.1f} {n['edges']:>9,} {n['pairs']:>9,} {floor:>8.1f} "
            f"{threshold:>4} {n['significant_pairs']:>8,} {n['coordinated_accounts']:>8,} "
            f"{n['null_accounts_flagged']:>7.1f} {n['groups']:>6,} "
            f"{n['coordinated_share']:>7.2%}"
        )
    c = summary["coordinated"]
    lines += [
        "(floor: mean pairs on shuffled data; w*: significance threshold; (null): accounts it flags there)",
        "",
        f"Coordinated in any network: {c['accounts']:,} accounts ({c['share_of_accounts']:.2%}), "
        f"{c['posts']:,} posts ({c['share']:.2%} of posts)",
    ]
    d = summary["near_duplicates"]
    lines.append(
        f"Near-duplicate clusters: {d['clusters']:,} ({d['posts_in_clusters']:,} posts, largest "
        f"{d['largest']:,}, {d['multi_account_clusters']:,} with several accounts)"
    )
    b = summary["bursts"]
    for series in ("all", "hostile"):
        if series in b:
            s = b[series]
            lines.append(
                f"Bursts ({series} posts): {s['bursts']:,} (top level {s['top_level']}), first from "
                f"{s['first_burst_start'] or '-'}; burstiness {s['burstiness']}"
            )
    if "hostile" not in b:
        lines.append(
            "Bursts (hostile posts): skipped, no hostile labels (run the classify stage or pass --hostile-sql)"
        )
    a = summary["accounts"]["all"]
    lines.append(
        f"Accounts: {a['accounts']:,}; created in the 30 days before the window: "
        f"{_pct(a['share_created_in_30_days_before'])}; median age at first post "
        f"{a['median_age_days_at_first_post']} days; median lifetime posts/day {a['median_lifetime_posts_per_day']}"
    )
    for path in summary.get("exported", []):
        lines.append(f"Wrote {path}")
    lines.append(
        "Tables: coaction_edges, coordinated_accounts, coordination_networks, duplicate_clusters, "
        "duplicate_members, bursts, burstiness, account_signals"
    )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(authenticity_command())
