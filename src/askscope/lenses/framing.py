"""Lens 3 aggregates: frame shares for participants and the host, over time, and before /
during / after the window *(ours)*."""

from __future__ import annotations

import json
from typing import Any

from askscope.lenses import stats
from askscope.lenses.base import Lens
from askscope.lenses.common import LensInput, bucket_for, campaign_span
from askscope.timefmt import iso


def framing(inp: LensInput, bucket: str) -> dict[str, Any]:
    con = inp.store.con
    frames = [r[0] for r in con.execute("SELECT DISTINCT frame FROM frame_scores ORDER BY 1").fetchall()]
    calibration = (
        {f: json.loads(c) for f, c in con.execute("SELECT frame, calibration FROM frame_calibration").fetchall()}
        if frames
        else {}
    )
    embedder = con.execute("SELECT any_value(embedder) FROM frame_calibration").fetchall()[0][0] if frames else None
    out: dict[str, Any] = {"frames": {}, "embedder": embedder}
    for frame in frames:
        # the frame's posts counted in SQL (posts and posts using it per side, in-window flag,
        # period and time bucket): what comes back is a row per group, not per post
        rows = con.execute(
            "SELECT (r.relation = 'host') AS host, coalesce(r.in_window, false) AS w, "
            "CASE WHEN r.in_window THEN 'during' WHEN p.created_at < $start THEN 'before' ELSE 'after' END AS period, "
            "time_bucket(CAST($bucket AS INTERVAL), p.created_at) AS t, "
            "count(*) AS n, count(*) FILTER (WHERE f.uses) AS k "
            "FROM frame_scores f JOIN relations r ON r.platform = f.platform AND r.post_id = f.post_id "
            "JOIN posts p ON p.platform = f.platform AND p.id = f.post_id WHERE f.frame = $frame GROUP BY ALL",
            {"frame": frame, "start": inp.window_start, "bucket": bucket},
        ).fetchall()
        result: dict[str, Any] = {"calibration": calibration.get(frame)}
        for who, is_host in (("participants", False), ("host", True)):
            side = [(w, period, t, int(n), int(k)) for h, w, period, t, n, k in rows if h == is_host]
            result[who] = stats.wilson(sum(k for w, _, _, _, k in side if w), sum(n for w, _, _, n, _ in side if w))
            periods = {}
            for period in ("before", "during", "after"):
                n = sum(n for _, per, _, n, _ in side if per == period)
                if n:
                    periods[period] = stats.wilson(sum(k for _, per, _, _, k in side if per == period), n)
            result[f"{who}_by_period"] = periods
            series: dict[str, list[int]] = {}
            for w, _, t, n, k in side:
                if w and t is not None:
                    counts = series.setdefault(iso(t) or "", [0, 0])
                    counts[0] += k
                    counts[1] += n
            result[f"{who}_over_time"] = [
                {"t": t, **{key: v for key, v in stats.wilson(k, n).items() if key in ("value", "ci", "n")}}
                for t, (k, n) in sorted(series.items())
            ]
        out["frames"][frame] = result
    return out


FRAMING = Lens(
    name="framing",
    title="Framing",
    order=30,
    compute=lambda inp, results: framing(inp, bucket_for(*campaign_span(inp.store))),
    description="whether the host's frames moved the participants' framing",
)
