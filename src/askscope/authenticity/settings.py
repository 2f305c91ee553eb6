"""Settings of the authenticity analysis, and its typed error.

Every default is the one METRICS.md (lens 4) names: τ = 60 s, Kleinberg s = 2, γ = 1, 128
MinHash permutations. :meth:`AuthenticitySettings.from_mapping` checks a user's settings (from
the CLI, a stage's settings or the library) and raises :class:`AuthenticityError` naming the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from askscope.errors import AskscopeError

#: The co-action networks, in report order.
NETWORKS: tuple[str, ...] = ("co_repost", "co_post", "co_similar", "co_link", "co_reply")
#: The networks the QUT coordination-network-toolkit defines the same way (see docs/authenticity.md).
TOOLKIT_NAMES: dict[str, str] = {
    "co_repost": "co_retweet",
    "co_post": "co_tweet",
    "co_link": "co_link",
    "co_reply": "co_reply",
    "co_similar": "co_similar_tweet",
}
GROUP_METHODS = ("components", "leiden")


class AuthenticityError(AskscopeError):
    """Authenticity settings or inputs that cannot be used."""

    code = "E050"


@dataclass(frozen=True)
class AuthenticitySettings:
    """What the authenticity analysis does; every field has a documented default."""

    #: Networks to compute (a subset of :data:`NETWORKS`).
    networks: tuple[str, ...] = NETWORKS
    #: Coordination interval τ in seconds; ``None`` estimates it from the data (CooRnet).
    tau: float | None = 60.0
    #: CooRnet's estimate: the quickest ``tau_q`` share of objects, ``tau_p`` quantile of their time to half their shares.
    tau_q: float = 0.1
    tau_p: float = 0.5
    #: co_similar: Jaccard threshold on token sets, and the fewest distinct tokens a post needs.
    similarity: float = 0.8
    min_tokens: int = 5
    #: MinHash permutations (co_similar and near-duplicate clusters).
    num_perm: int = 128
    #: co_post: keep posts whose normalised text is empty (the toolkit does; askscope skips them).
    keep_empty_text: bool = False
    #: Crowds: when more than ``max_crowd`` actions on the same object (the same parent post, for
    #: co_reply) lie within τ of an action, acting there is what the crowd does, not evidence of
    #: coordination; those actions make no edges (observed and null runs alike), and their count
    #: is reported. This keeps the cost linear where thousands reply to the host's post at once.
    #: ``None`` keeps every pair (the QUT toolkit's behaviour; quadratic in crowd size).
    max_crowd: int | None = 50
    #: Null model: runs with timestamps shuffled within the window, and their seed.
    null_runs: int = 10
    seed: int = 0
    #: An edge is significant when its pair weight reaches the smallest weight (≥ min_weight) at
    #: which the null's expected edge count is at most ``fdr`` times the observed count.
    fdr: float = 0.05
    min_weight: int = 3
    #: Also require the hypergeometric test (Benjamini–Hochberg adjusted) at level ``alpha``.
    hypergeometric: bool = False
    alpha: float = 0.05
    #: How groups are formed from significant edges: connected components or Leiden communities.
    groups: str = "components"
    leiden_resolution: float = 1.0
    #: Near-duplicate clusters: Jaccard threshold on character shingles of length ``shingle``.
    cluster_threshold: float = 0.7
    shingle: int = 5
    #: Kleinberg's burst detection.
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    #: SQL returning ``(platform, post_id)`` of hostile posts; ``None``: found from the classify stage's table.
    hostile_sql: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["networks"] = list(self.networks)
        return data

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> AuthenticitySettings:
        """Settings from a mapping (unknown keys and wrong values raise :class:`AuthenticityError`)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AuthenticityError(
                f"unknown authenticity setting {unknown[0]!r}", "known: " + ", ".join(sorted(known))
            )
        if isinstance(data.get("networks"), str):
            data["networks"] = tuple(n.strip() for n in data["networks"].split(",") if n.strip())
        if "networks" in data:
            data["networks"] = tuple(data["networks"])
        settings = replace(cls(), **data)
        settings.check()
        return settings

    def check(self) -> None:
        bad = [n for n in self.networks if n not in NETWORKS]
        if bad:
            raise AuthenticityError(f"unknown network {bad[0]!r}", "networks: " + ", ".join(NETWORKS))
        if not self.networks:
            raise AuthenticityError("no network chosen", "networks: " + ", ".join(NETWORKS))
        if self.tau is not None and not 0 <= self.tau <= 7 * 86400:
            raise AuthenticityError(
                f"tau must be between 0 and 604800 seconds, not {self.tau}", "the literature's default is 60 seconds"
            )
        for name in ("similarity", "cluster_threshold"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise AuthenticityError(f"{name} must be in (0, 1], not {value}", "for example 0.8")
        for name in ("tau_q", "tau_p", "fdr", "alpha"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise AuthenticityError(f"{name} must be in (0, 1), not {value}", "for example 0.05")
        if self.num_perm < 16 or self.num_perm > 1024:
            raise AuthenticityError(f"num_perm must be between 16 and 1024, not {self.num_perm}", "for example 128")
        if self.max_crowd is not None and self.max_crowd < 2:
            raise AuthenticityError(f"max_crowd must be at least 2 (or None), not {self.max_crowd}", "for example 50")
        if self.null_runs < 1 or self.null_runs > 1000:
            raise AuthenticityError(f"null_runs must be between 1 and 1000, not {self.null_runs}", "for example 10")
        if self.min_weight < 1:
            raise AuthenticityError(f"min_weight must be at least 1, not {self.min_weight}", "for example 3")
        if self.min_tokens < 1 or self.shingle < 1:
            raise AuthenticityError("min_tokens and shingle must be at least 1", "for example 5")
        if self.groups not in GROUP_METHODS:
            raise AuthenticityError(
                f"groups must be one of {', '.join(GROUP_METHODS)}, not {self.groups!r}", "components is the default"
            )
        if self.burst_s <= 1 or self.burst_gamma <= 0:
            raise AuthenticityError(
                "burst_s must be above 1 and burst_gamma above 0", "Kleinberg's defaults: s = 2, γ = 1"
            )
