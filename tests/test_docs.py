"""Docs that cannot rot: every command has help text and a section in docs/cli.md; every column
of every public table is documented in docs/schema.md; every reject reason is explained."""

from __future__ import annotations

import re
from pathlib import Path

from askscope import registry
from askscope.post import REJECT_REASONS
from askscope.store.schema import PUBLIC_TABLES

DOCS = Path(__file__).parent.parent / "docs"


def test_every_command_has_help_and_a_docs_section():
    text = (DOCS / "cli.md").read_text()
    sections = set(re.findall(r"^## (\S+)", text, flags=re.M))
    commands = registry.commands()
    assert {"ingest", "analyze", "report", "plugins"} <= set(commands)
    for name, command in commands.items():
        assert command.help and len(command.help.strip()) > 20, f"{name} has no help text"
        assert name in sections, f"docs/cli.md has no section for {name}"
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert param.help, f"{name} {param.opts} has no help"
                flags = [opt for opt in param.opts + param.secondary_opts if opt.startswith("--")]
                assert any(flag in text for flag in flags), f"docs/cli.md does not mention {name} {flags}"


def test_every_public_column_is_documented():
    text = (DOCS / "schema.md").read_text()
    for table, columns in PUBLIC_TABLES.items():
        assert f"## {table}" in text, f"docs/schema.md has no section for {table}"
        section = text.split(f"## {table}", 1)[1].split("\n## ", 1)[0]
        for name, _ in columns:
            assert f"`{name}`" in section, f"{table}.{name} is not documented"


def test_every_reject_reason_is_documented():
    text = (DOCS / "schema.md").read_text()
    for reason in REJECT_REASONS:
        assert f"| `{reason}` |" in text, reason


def test_every_stage_table_is_documented():
    from askscope.analysis import stages

    text = (DOCS / "schema.md").read_text()
    for stage in stages():
        for table in stage.provides:
            assert f"### {table}" in text or f"## {table}" in text, (
                f"{stage.name} writes {table}: not in docs/schema.md"
            )
