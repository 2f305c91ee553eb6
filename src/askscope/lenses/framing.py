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
        rows = con.execute(
            "SELECT (r.relation = 'host') AS host, r.in_window, "
            "CASE WHEN r.in_window THEN 'during' WHEN p.created_at < $start THEN 'before' ELSE 'after' END AS period, "
            "f.uses, time_bucket(CAST($bucket AS INTERVAL), p.created_at) AS t "
            "FROM frame_scores f JOIN relations r ON r.platform = f.platform AND r.post_id = f.post_id "
            "JOIN posts p ON p.platform = f.platform AND p.id = f.post_id WHERE f.frame = $frame",
            {"frame": frame, "start": inp.window_start, "bucket": bucket},
        ).fetchall()
        result: dict[str, Any] = {"calibration": calibration.get(frame)}
        for who, is_host in (("participants", False), ("host", True)):
            during = [u for h, w, _, u, _ in rows if h == is_host and w]
            result[who] = stats.wilson(sum(during), len(during))
            periods = {}
            for period in ("before", "during", "after"):
                subset = [u for h, _, per, u, _ in rows if h == is_host and per == period]
                if subset:
                    periods[period] = stats.wilson(sum(subset), len(subset))
            result[f"{who}_by_period"] = periods
            series: dict[str, list[bool]] = {}
            for h, w, _, u, t in rows:
                if h == is_host and w and t is not None:
                    series.setdefault(iso(t), []).append(u)
            result[f"{who}_over_time"] = [
                {"t": t, **{k: v for k, v in stats.wilson(sum(us), len(us)).items() if k in ("value", "ci", "n")}}
                for t, us in sorted(series.items())
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
