"""Helpers for the coding tests: a simulated campaign store with known truth, and coders' files
written the way spreadsheets write them."""

from __future__ import annotations

import csv
import io
import random
import shutil
from pathlib import Path

from conftest import shared

from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.store.core import open_store
from askscope.synthetic.campaign import CATEGORIES, SimulationSpec, campaign_file, truth_labeler, write_campaign


def build_campaign(path: Path, seed: int = 7, posts: int = 2000) -> str:
    """A simulated, analysed campaign store: its posts' true categories are in ``sim_truth``; the
    model labels came through the simulation's known confusion matrix (80% right)."""
    spec = SimulationSpec(seed=seed, posts=posts)
    write_campaign(str(path), spec, shared())
    analyze(
        str(path),
        parse_campaign(campaign_file(spec)),
        settings={"labeler": truth_labeler(str(path), spec), "seed": seed},
    )
    return str(path)


def copy_store(base: str, folder: Path) -> str:
    target = folder / "campaign.duckdb"
    shutil.copy(base, target)
    return str(target)


def truth(db: str) -> dict[str, str]:
    with open_store(db, read_only=True) as store:
        return dict(store.con.execute("SELECT post_id, category FROM sim_truth").fetchall())


def read_sample(path: str | Path) -> tuple[list[str], list[list[str]]]:
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def coded(sample: str | Path, db: str, flip: float = 0.0, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """The sample's rows coded with the true category, a share ``flip`` of them replaced by a
    seeded random other category (planted disagreements)."""
    header, rows = read_sample(sample)
    categories = truth(db)
    rng = random.Random(seed)
    code, post = header.index("code"), header.index("post_id")
    for row in rows:
        true = categories[row[post]]
        row[code] = rng.choice([c for c in CATEGORIES if c != true]) if rng.random() < flip else true
    return header, rows


def write_dialect(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
    line_end: str = "\r\n",
    quote_all: bool = False,
) -> Path:
    """A file as a spreadsheet saves it: separator, encoding (BOM or not), line ends, quoting."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return path
