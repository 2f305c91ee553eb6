"""Exports of the co-action networks: GEXF and GraphML (Gephi), Parquet edge lists, and the QUT
toolkit's input rows.

The XML is written by hand with every value escaped (handles are untrusted text; characters XML
1.0 forbids are dropped), one file per network: ``<network>.gexf`` and ``<network>.graphml``,
directed edges as in ``coaction_edges`` with ``weight`` and ``significant``; nodes carry the
handle, the account's posts in the campaign and its group (0 when not coordinated).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import duckdb
import pyarrow.parquet as pq

from askscope.authenticity.population import POPULATION
from askscope.authenticity.settings import AuthenticityError

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(value: object) -> str:
    return _XML_INVALID.sub("", "" if value is None else str(value))


def _attr(value: object) -> str:
    return quoteattr(_clean(value))


def toolkit_messages(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    """The population as the toolkit's ``preprocess_data`` rows: message_id, user_id, username,
    repost_id, reply_id, message, timestamp (seconds), urls. Needs the population table."""
    cursor = con.execute(f"""
        SELECT platform || ':' || id, platform || ':' || author_id, author_handle,
               CASE WHEN kind = 'repost' THEN reposted_id END,
               CASE WHEN kind <> 'repost' THEN in_reply_to_id END,
               coalesce(text, ''), t / 1000.0, coalesce(list_filter(urls, lambda u: u <> ''), [])
        FROM {POPULATION} ORDER BY pid
    """)
    while True:
        batch = cursor.fetchmany(10_000)
        if not batch:
            return
        yield from batch


def _graph(
    con: duckdb.DuckDBPyConnection, network: str, significant_only: bool
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    where = "AND significant" if significant_only else ""
    edges = con.execute(
        f"""
        SELECT platform || ':' || source_id, platform || ':' || target_id, weight, significant
        FROM coaction_edges WHERE network = ? {where} ORDER BY platform, source_id, target_id
    """,
        [network],
    ).fetchall()
    nodes = con.execute(
        f"""
        WITH ids AS (SELECT platform, source_id AS id FROM coaction_edges WHERE network = $1 {where}
                     UNION SELECT platform, target_id FROM coaction_edges WHERE network = $1 {where}),
        posts AS (SELECT platform, author_id AS id, handle, posts FROM account_signals)
        SELECT ids.platform || ':' || ids.id, coalesce(posts.handle, ''), coalesce(posts.posts, 0),
               coalesce(c.group_id, 0)
        FROM ids LEFT JOIN posts USING (platform, id)
        LEFT JOIN coordinated_accounts c ON c.platform = ids.platform AND c.author_id = ids.id AND c.network = $1
        ORDER BY 1
    """,
        [network],
    ).fetchall()
    return nodes, edges


def write_gexf(path: Path, network: str, nodes: list[tuple[Any, ...]], edges: list[tuple[Any, ...]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
            f"  <meta><creator>askscope</creator><description>{escape(network)} co-action network"
            "</description></meta>\n"
            '  <graph mode="static" defaultedgetype="directed">\n'
            '    <attributes class="node">\n'
            '      <attribute id="handle" title="handle" type="string"/>\n'
            '      <attribute id="posts" title="posts" type="integer"/>\n'
            '      <attribute id="group" title="group" type="integer"/>\n'
            "    </attributes>\n"
            '    <attributes class="edge">\n'
            '      <attribute id="significant" title="significant" type="boolean"/>\n'
            "    </attributes>\n"
            "    <nodes>\n"
        )
        for node_id, handle, posts, group in nodes:
            out.write(
                f"      <node id={_attr(node_id)} label={_attr(handle or node_id)}><attvalues>"
                f'<attvalue for="handle" value={_attr(handle)}/><attvalue for="posts" value="{int(posts)}"/>'
                f'<attvalue for="group" value="{int(group)}"/></attvalues></node>\n'
            )
        out.write("    </nodes>\n    <edges>\n")
        for i, (source, target, weight, significant) in enumerate(edges):
            out.write(
                f'      <edge id="{i}" source={_attr(source)} target={_attr(target)} weight="{int(weight)}">'
                f'<attvalues><attvalue for="significant" value="{str(bool(significant)).lower()}"/>'
                "</attvalues></edge>\n"
            )
        out.write("    </edges>\n  </graph>\n</gexf>\n")


def write_graphml(path: Path, network: str, nodes: list[tuple[Any, ...]], edges: list[tuple[Any, ...]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
            '  <key id="handle" for="node" attr.name="handle" attr.type="string"/>\n'
            '  <key id="posts" for="node" attr.name="posts" attr.type="int"/>\n'
            '  <key id="group" for="node" attr.name="group" attr.type="int"/>\n'
            '  <key id="weight" for="edge" attr.name="weight" attr.type="int"/>\n'
            '  <key id="significant" for="edge" attr.name="significant" attr.type="boolean"/>\n'
            f'  <graph id={_attr(network)} edgedefault="directed">\n'
        )
        for node_id, handle, posts, group in nodes:
            out.write(
                f'    <node id={_attr(node_id)}><data key="handle">{escape(_clean(handle))}</data>'
                f'<data key="posts">{int(posts)}</data><data key="group">{int(group)}</data></node>\n'
            )
        for source, target, weight, significant in edges:
            out.write(
                f'    <edge source={_attr(source)} target={_attr(target)}><data key="weight">{int(weight)}</data>'
                f'<data key="significant">{str(bool(significant)).lower()}</data></edge>\n'
            )
        out.write("  </graph>\n</graphml>\n")


def export(
    con: duckdb.DuckDBPyConnection, folder: str | Path, networks: tuple[str, ...], significant_only: bool = False
) -> list[str]:
    """Write GEXF, GraphML and Parquet files into ``folder`` (created if missing) from the tables
    of the last authenticity run; returns the paths."""
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise AuthenticityError(f"{out} is a file, not a folder", "give --export a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuthenticityError(f"cannot create {out}: {exc.strerror or exc}", "check the path") from exc
    written: list[str] = []
    for network in networks:
        nodes, edges = _graph(con, network, significant_only)
        for suffix, writer in ((".gexf", write_gexf), (".graphml", write_graphml)):
            path = out / f"{network}{suffix}"
            writer(path, network, nodes, edges)
            written.append(str(path))
    where = "WHERE significant" if significant_only else ""
    for name, query in (
        ("coaction_edges.parquet", f"SELECT * FROM coaction_edges {where} ORDER BY ALL"),
        ("coordinated_accounts.parquet", "SELECT * FROM coordinated_accounts ORDER BY ALL"),
    ):
        path = out / name
        relation = con.sql(query)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # DuckDB 2 renamed it
        pq.write_table(fetch(), path)
        written.append(str(path))
    return written
