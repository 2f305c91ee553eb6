"""Campaign settings: who hosts, which hashtags, the window, the frames.

A campaign file is TOML. The minimal form (kept working for good)::

    name = "AskHamas"
    hashtags = ["AskHamas"]           # with or without '#', any case
    hosts = ["HamasInfoEn"]           # handles or ids; "platform:handle" when several platforms
    start = 2015-03-13T00:00:00Z      # optional
    end = 2015-03-18T00:00:00Z        # optional
    [frames.liberation]
    keywords = ["liberation", "resistance"]
    examples = ["a movement fighting for the freedom of its people"]

Optional keys: ``representatives`` (accounts that answer on the host's behalf, same forms as
``hosts``), ``platform`` (the default platform of unprefixed hosts, ``x``), ``description``,
``[frames.NAME] description``, ``timezone`` (an IANA zone name such as ``"Australia/Sydney"``, UTC by
default: the zone every time in the report is shown in; stored times stay UTC). A wrong file raises :class:`CampaignError` naming the key and
what was expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from askscope.errors import AskscopeError
from askscope.timefmt import iso

#: The platforms of askscope's own readers; :func:`platforms` adds those of plugin readers.
PLATFORMS = ("x", "mastodon", "bluesky", "reddit")


def platforms() -> tuple[str, ...]:
    """Every platform a registered reader reads (built-ins first)."""
    from askscope.readers import readers

    found = [*PLATFORMS]
    for cls in readers():
        if cls.platform not in found and cls.platform != "any":
            found.append(cls.platform)
    return tuple(found)


class CampaignError(AskscopeError):
    """A campaign file that cannot be used: which key, what was expected."""

    code = "E010"


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A host or representative: a handle or an id on a platform."""

    platform: str
    value: str  # handle without '@' (compared case-insensitively) or numeric/opaque id

    @property
    def looks_like_id(self) -> bool:
        return self.value.isdigit() or self.value.startswith(("did:", "t2_")) or ":" in self.value

    def __str__(self) -> str:
        return f"{self.platform}:{self.value}"


@dataclass(frozen=True, slots=True)
class Frame:
    """A framing the campaign is about (e.g. "liberation movement"): keywords and examples."""

    name: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Campaign:
    name: str
    hosts: tuple[AccountRef, ...]
    hashtags: tuple[str, ...] = ()
    representatives: tuple[AccountRef, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    frames: tuple[Frame, ...] = ()
    description: str = ""
    source: str | None = field(default=None, compare=False)
    #: The IANA time zone the report shows times in (stored times stay UTC).
    timezone: str = "UTC"

    @property
    def host_refs(self) -> tuple[AccountRef, ...]:
        """The host accounts and the representatives answering for them (``H`` in METRICS.md)."""
        return self.hosts + self.representatives

    @property
    def hashtags_lower(self) -> tuple[str, ...]:
        return tuple(h.lower() for h in self.hashtags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hosts": [str(h) for h in self.hosts],
            "representatives": [str(r) for r in self.representatives],
            "hashtags": list(self.hashtags),
            "start": iso(self.start) if self.start else None,
            "end": iso(self.end) if self.end else None,
            "frames": {f.name: {"keywords": list(f.keywords), "examples": list(f.examples)} for f in self.frames},
            "timezone": self.timezone,
        }


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _strings(value: Any, key: str, source: str | None) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CampaignError(
            f"{_where(source)}'{key}' must be a list of non-empty strings, not {value!r}",
            f'for example: {key} = ["one", "two"]',
        )
    return [v.strip() for v in value]


def _account(value: str, default_platform: str, key: str, source: str | None) -> AccountRef:
    text = value.strip()
    platform = default_platform
    head, sep, rest = text.partition(":")
    if sep and head.lower() in platforms():
        platform, text = head.lower(), rest.strip()
    text = text.lstrip("@")
    if not text:
        raise CampaignError(
            f"{_where(source)}'{key}' has an empty account: {value!r}",
            'write a handle or id, e.g. "HamasInfoEn" or "mastodon:someone@example.social"',
        )
    return AccountRef(platform, text)


def _time(value: Any, key: str, source: str | None) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise CampaignError(
        f"{_where(source)}'{key}' must be a date-time, not {value!r}", f"for example: {key} = 2015-03-13T00:00:00Z"
    )


KNOWN_KEYS = {
    "name",
    "hosts",
    "representatives",
    "hashtags",
    "start",
    "end",
    "frames",
    "platform",
    "description",
    "timezone",
    "live",  # [live] settings of askscope live, read by askscope.live.console.live_settings
}


def _timezone(value: Any, source: str | None) -> str:
    """An IANA time zone name (``"Australia/Sydney"``, ``"UTC"``) that this Python knows."""
    example = 'for example: timezone = "Australia/Sydney" (an IANA name; "UTC" is the default)'
    if not isinstance(value, str) or not value.strip():
        raise CampaignError(f"{_where(source)}'timezone' must be a time zone name, not {value!r}", example)
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CampaignError(f"{_where(source)}'timezone' is not a known time zone: {name!r}", example) from None
    return name


def parse_campaign(data: dict[str, Any], source: str | None = None) -> Campaign:
    """A :class:`Campaign` from parsed TOML (or any mapping)."""
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise CampaignError(
            f"{_where(source)}unknown key '{unknown[0]}'", "known keys: " + ", ".join(sorted(KNOWN_KEYS))
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CampaignError(f"{_where(source)}'name' must be a non-empty string", 'for example: name = "AskHamas"')
    platform = data.get("platform", "x")
    if platform not in platforms():
        raise CampaignError(
            f"{_where(source)}'platform' must be one of {', '.join(platforms())}, not {platform!r}",
            'for example: platform = "x"',
        )
    if "hosts" not in data:
        raise CampaignError(f"{_where(source)}'hosts' is missing", 'name the host accounts: hosts = ["HamasInfoEn"]')
    hosts = tuple(_account(v, platform, "hosts", source) for v in _strings(data["hosts"], "hosts", source))
    reps = (
        tuple(
            _account(v, platform, "representatives", source)
            for v in _strings(data.get("representatives", []), "representatives", source)
        )
        if data.get("representatives")
        else ()
    )
    hashtags = (
        tuple(h.lstrip("#") for h in _strings(data.get("hashtags", []), "hashtags", source))
        if data.get("hashtags")
        else ()
    )
    start = _time(data["start"], "start", source) if "start" in data else None
    end = _time(data["end"], "end", source) if "end" in data else None
    if start and end and end <= start:
        raise CampaignError(
            f"{_where(source)}'end' ({end.isoformat()}) is not after 'start' ({start.isoformat()})",
            "swap them or fix the dates",
        )
    frames_data = data.get("frames", {})
    if not isinstance(frames_data, dict):
        raise CampaignError(
            f"{_where(source)}'frames' must be a table of frames", '[frames.liberation]\nkeywords = ["liberation"]'
        )
    frames = []
    for frame_name, spec in frames_data.items():
        key = f"frames.{frame_name}"
        if not isinstance(spec, dict):
            raise CampaignError(
                f"{_where(source)}'{key}' must be a table with keywords and examples",
                f'[{key}]\nkeywords = ["..."]\nexamples = ["..."]',
            )
        extra = sorted(set(spec) - {"keywords", "examples", "description"})
        if extra:
            raise CampaignError(
                f"{_where(source)}unknown key '{key}.{extra[0]}'", "a frame has keywords, examples and description"
            )
        keywords = tuple(_strings(spec.get("keywords", []), f"{key}.keywords", source)) if spec.get("keywords") else ()
        examples = tuple(_strings(spec.get("examples", []), f"{key}.examples", source)) if spec.get("examples") else ()
        if not keywords and not examples:
            raise CampaignError(
                f"{_where(source)}'{key}' needs keywords or examples",
                f'[{key}]\nkeywords = ["..."]\nexamples = ["a sentence in this frame"]',
            )
        description = spec.get("description", "")
        if not isinstance(description, str):
            raise CampaignError(f"{_where(source)}'{key}.description' must be a string", 'description = "..."')
        frames.append(Frame(frame_name, keywords, examples, description))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise CampaignError(f"{_where(source)}'description' must be a string", 'description = "..."')
    timezone = _timezone(data["timezone"], source) if "timezone" in data else "UTC"
    return Campaign(
        name=name.strip(),
        hosts=hosts,
        hashtags=hashtags,
        representatives=reps,
        start=start,
        end=end,
        frames=tuple(frames),
        description=description,
        source=source,
        timezone=timezone,
    )


def load_campaign(path: str | Path) -> Campaign:
    """Read and check a campaign file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignError(f"no campaign file at {source}", "create one with: askscope init NAME") from None
    except OSError as exc:
        raise CampaignError(f"cannot read {source}: {exc.strerror or exc}", "check the path") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{source} is not valid TOML: {exc}", "check the line and column named above") from exc
    return parse_campaign(data, source)


TEMPLATE = """# askscope campaign file: who hosts the Q&A, which hashtags, when, which framings.
# Check it with: askscope analyze DB --campaign {file}

# A name for reports.
name = "{name}"

# The campaign hashtags, with or without '#', any case.
hashtags = ["{name}"]

# The host accounts: handles or ids. Prefix the platform when several are used:
# "x:HamasInfoEn", "mastodon:someone@example.social", "bluesky:name.bsky.social".
hosts = ["HostHandle"]

# Accounts that answer on the host's behalf (optional).
# representatives = ["SpokespersonHandle"]

# The window (optional; else from the data). UTC date-times.
# start = 2015-03-13T00:00:00Z
# end = 2015-03-18T00:00:00Z

# The time zone the report shows times in (optional; an IANA name, UTC by default).
# timezone = "Asia/Gaza"

# Frames: how the host wants to be seen, and how others frame it. Each frame has keywords
# and/or example sentences; posts are scored against each.
# [frames.liberation]
# keywords = ["liberation", "resistance"]
# examples = ["a movement fighting for the freedom of its people"]
#
# [frames.terrorism]
# keywords = ["terrorist", "terror organisation"]
# examples = ["a terrorist organisation that targets civilians"]
"""


def default_file_name(name: str) -> str:
    """The file ``askscope init NAME`` writes when no ``-o`` is given: ``NAME.toml``."""
    return (name.strip().lstrip("#").replace(" ", "-") or "campaign") + ".toml"


def template(name: str, file_name: str | None = None) -> str:
    """A commented campaign file for ``askscope init NAME``; its first lines name ``file_name``
    (the file it is written to; by default :func:`default_file_name`)."""
    clean = name.strip().lstrip("#")
    return TEMPLATE.format(name=clean.replace('"', ""), file=file_name or default_file_name(name))
