"""CSV: the columns ``twarc2 csv`` writes, and any CSV whose columns are named or mapped.

Column names are matched against the twarc-csv names (``referenced_tweets.replied_to.id``,
``public_metrics.like_count``, ``author.username``...) and common aliases (``tweet_id``,
``full_text``, ``screen_name``...). ``--map col=field`` maps any other column to a
:class:`~askscope.post.Post` field (``--map "Tweet Body=text" --map Posted=created_at``).

Values: dates may be ISO 8601, v1.1 style (``Wed Oct 10 20:19:24 +0000 2018``) or Unix epoch
seconds; list fields may be JSON lists (as twarc-csv writes them) or space/comma-separated;
twarc-csv escapes newlines in text as ``\\n``, which is undone. A row that cannot be read (wrong
number of fields, no id, a bad number or date) is rejected with its line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec

from askscope.errors import UsageError
from askscope.post import MAX_COUNT, POST_FIELDS, Account, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink, excerpt_of, utc
from askscope.readers.x_v1 import InvalidValue, parse_v1_date

csv.field_size_limit(64 * 1024 * 1024)

# Entities taken from the text when a CSV has no column for them.
HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
MENTION = re.compile(r"(?<![\w@])@(\w{1,50})")
URL = re.compile(r"https?://[^\s<>\"']+")

# Column name (lower-cased) -> Post field, or "account.<field>" for the author's account.
ALIASES: dict[str, str] = {
    # twarc2 csv
    "id": "id",
    "conversation_id": "conversation_id",
    "referenced_tweets.replied_to.id": "in_reply_to_id",
    "referenced_tweets.retweeted.id": "reposted_id",
    "referenced_tweets.quoted.id": "quoted_id",
    "author_id": "author_id",
    "in_reply_to_user_id": "in_reply_to_author_id",
    "created_at": "created_at",
    "text": "text",
    "lang": "lang",
    "public_metrics.impression_count": "view_count",
    "public_metrics.reply_count": "reply_count",
    "public_metrics.retweet_count": "repost_count",
    "public_metrics.quote_count": "quote_count",
    "public_metrics.like_count": "like_count",
    "edit_history_tweet_ids": "edit_ids",
    "withheld.country_codes": "withheld",
    "entities.hashtags": "hashtags",
    "entities.mentions": "mentions",
    "entities.urls": "urls",
    "attachments.media_keys": "media_count",
    "author.username": "author_handle",
    "retweeted_username": "_reposted_handle",
    "retweeted_user_id": "_reposted_author_id",
    "__twarc.retrieved_at": "observed_at",
    "author.id": "account.id",
    "author.name": "account.name",
    "author.created_at": "account.created_at",
    "author.description": "account.description",
    "author.location": "account.location",
    "author.verified": "account.verified",
    "author.protected": "account.protected",
    "author.public_metrics.followers_count": "account.followers_count",
    "author.public_metrics.following_count": "account.following_count",
    "author.public_metrics.tweet_count": "account.posts_count",
    "author.url": "account.url",
    # common aliases in other exports
    "tweet_id": "id",
    "status_id": "id",
    "post_id": "id",
    "id_str": "id",
    "full_text": "text",
    "tweet": "text",
    "content": "text",
    "body": "text",
    "user_id": "author_id",
    "author": "author_handle",
    "username": "author_handle",
    "screen_name": "author_handle",
    "user_screen_name": "author_handle",
    "date": "created_at",
    "timestamp": "created_at",
    "in_reply_to_status_id": "in_reply_to_id",
    "in_reply_to_tweet_id": "in_reply_to_id",
    "parent_id": "in_reply_to_id",
    "quoted_status_id": "quoted_id",
    "retweeted_status_id": "reposted_id",
    "hashtags": "hashtags",
    "mentions": "mentions",
    "urls": "urls",
    "like_count": "like_count",
    "favorite_count": "like_count",
    "retweet_count": "repost_count",
    "repost_count": "repost_count",
    "reply_count": "reply_count",
    "quote_count": "quote_count",
    "platform": "platform",
    "kind": "kind",
    # a post's own address: its id (and platform) when the export has no id column
    "url": "url",
    "tweet_url": "url",
    "status_url": "url",
    "post_url": "url",
    "permalink": "url",
    "link": "url",
}
TWARC_MARKERS = ("referenced_tweets.replied_to.id", "public_metrics.like_count", "__twarc.retrieved_at")
LIST_FIELDS = {"hashtags", "mentions", "urls", "edit_ids", "withheld", "mention_ids"}
INT_FIELDS = {"like_count", "repost_count", "reply_count", "quote_count", "view_count", "source_line"}
DATE_FIELDS = {"created_at", "observed_at"}
ACCOUNT_INT = {"followers_count", "following_count", "posts_count"}
ACCOUNT_BOOL = {"verified", "protected"}
MAPPABLE = set(POST_FIELDS) - {"source_file", "source_line", "is_context"}
ACCOUNT_MAPPABLE = {
    "id",
    "name",
    "created_at",
    "description",
    "location",
    "verified",
    "protected",
    "followers_count",
    "following_count",
    "posts_count",
    "url",
}


def parse_map(specs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["col=field", ...]`` -> {column: field}; raises :class:`UsageError` on a bad spec."""
    mapping: dict[str, str] = {}
    for spec in specs:
        column, sep, target = spec.rpartition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise UsageError(
                f"--map {spec!r} is not of the form COLUMN=FIELD",
                "for example: --map 'Tweet Body=text' --map Posted=created_at",
            )
        if target.startswith("account."):
            if target[8:] not in ACCOUNT_MAPPABLE:
                raise UsageError(
                    f"--map {spec!r}: unknown account field {target[8:]!r}",
                    "account fields: " + ", ".join(sorted(ACCOUNT_MAPPABLE)),
                )
        elif target not in MAPPABLE:
            raise UsageError(
                f"--map {spec!r}: unknown post field {target!r}", "post fields: " + ", ".join(sorted(MAPPABLE))
            )
        mapping[column] = target
    return mapping


def _delimiter(header: str) -> str:
    return max((",", "\t", ";", "|"), key=header.count)


class CsvReader(Reader):
    """twarc2 csv output and other CSV exports (``--map col=field`` for unknown columns)."""

    name = "csv"
    platform = "x"
    description = "CSV (twarc2 csv columns, common aliases, or --map col=field)"
    sniff_order = 90

    def __init__(
        self,
        mapping: dict[str, str] | None = None,
        platform: str = "x",
        date_order: str | None = None,
        date_format: str | None = None,
    ) -> None:
        self.mapping = dict(mapping or {})
        self.default_platform = platform
        self.dates = DateParser(date_order, date_format)
        self.header: list[str] = []
        self.delimiter = ","
        self.targets: list[str | None] = []

    @property
    def present(self) -> set[str]:
        """Post fields some column provides."""
        return {t for t in self.targets if t}

    @property
    def is_twarc(self) -> bool:
        return any(marker in self.header for marker in TWARC_MARKERS)

    def _resolve(self, header: list[str]) -> list[str | None]:
        targets: list[str | None] = []
        for column in header:
            target = self.mapping.get(column)
            if target is None:
                target = ALIASES.get(column.strip().lower())
            targets.append(target)
        return targets

    def sniff(self, head: Head) -> bool:
        if head.layout != "text":
            return False
        first = head.text.splitlines()[0] if head.text else ""
        if not first:
            return False
        delimiter = _delimiter(first)
        header = next(csv.reader([first], delimiter=delimiter), [])
        targets = set(t for t in self._resolve(header) if t)
        missing = [c for c in self.mapping if c not in header]
        if missing:
            return False
        return ("id" in targets or "url" in targets) and "text" in targets

    def records(self, stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        lines = _LineTracker(text)
        first = lines.next_line()
        if first is None:
            return
        self.delimiter = _delimiter(first)
        self.header = next(csv.reader([first], delimiter=self.delimiter), [])
        self.targets = self._resolve(self.header)
        reader = csv.reader(lines, delimiter=self.delimiter)
        while True:
            lines.start_row()
            try:
                next(reader)
            except StopIteration:
                return
            except csv.Error:
                pass  # parse() reports it with the row's raw text
            raw = lines.row_text()
            if not raw.strip():
                continue
            yield RawRecord(lines.row_line, lines.row_offset, raw.encode("utf-8", errors="surrogateescape"))

    def raw_header(self) -> bytes | None:
        return self.delimiter.join(_quote(h, self.delimiter) for h in self.header).encode("utf-8")

    def configure_from_header(self, header: bytes) -> None:
        """Re-read a stored header (``askscope reparse``)."""
        first = header.decode("utf-8")
        self.delimiter = _delimiter(first)
        self.header = next(csv.reader([first], delimiter=self.delimiter), [])
        self.targets = self._resolve(self.header)

    def parse(self, record: RawRecord, sink: Sink) -> None:
        try:
            text = record.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            sink.reject(record, "invalid_encoding", str(exc))
            return
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True))
        except csv.Error as exc:
            sink.reject(record, "invalid_csv", str(exc))
            return
        if len(rows) != 1:
            sink.reject(record, "invalid_csv", f"{len(rows)} rows where one was expected")
            return
        row = rows[0]
        if len(row) != len(self.header):
            sink.reject(record, "invalid_csv", f"{len(row)} fields where the header has {len(self.header)}")
            return
        id_columns = [cell for target, cell in zip(self.targets, row) if target == "id"]
        url_columns = [cell for target, cell in zip(self.targets, row) if target == "url"]
        if not any(cell.strip() for cell in id_columns) and not any(post_address(cell) for cell in url_columns):
            sink.reject(
                record,
                "missing_field",
                "the id column is empty"
                if id_columns
                else "no id column, and the url column holds no post address (…/status/ID)",
            )
            return
        try:
            post, account = self._row(row, record, sink)
        except InvalidValue as exc:
            sink.reject(record, "invalid_value", str(exc))
            return
        sink.matches.append(post)
        if account is not None:
            sink.accounts.append(account)

    def _row(self, row: list[str], record: RawRecord, sink: Sink) -> tuple[Post, Account | None]:
        values: dict[str, Any] = {}
        account: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for target, cell in zip(self.targets, row):
            if target is None or cell == "":
                continue
            if target.startswith("account."):
                account[target[8:]] = _account_value(target[8:], cell, self.dates)
            elif target.startswith("_"):
                extra[target] = cell
            else:
                values[target] = _post_value(target, cell, self.dates)
        address = post_address(values.get("url") or "")
        if address is not None and not values.get("id"):
            values["id"] = address[1]
            values.setdefault("platform", address[0])
        platform = values.pop("platform", None) or self.default_platform
        if self.is_twarc and isinstance(values.get("text"), str):
            # twarc-csv writes newlines in text as a backslash and an n.
            values["text"] = values["text"].replace("\\n", "\n")
        kind = values.pop("kind", None)
        if kind is None:
            if values.get("reposted_id"):
                kind = "repost"
            elif values.get("in_reply_to_id"):
                kind = "reply"
            elif values.get("quoted_id"):
                kind = "quote"
            else:
                kind = "post"
        elif kind not in ("post", "reply", "quote", "repost"):
            raise InvalidValue(f"kind must be post, reply, quote or repost, not {kind!r}")
        observed = values.pop("observed_at", None) or sink.default_observed_at
        text = values.get("text") or ""
        if "hashtags" not in self.present:
            values["hashtags"] = HASHTAG.findall(text)
        if "mentions" not in self.present:
            values["mentions"] = MENTION.findall(text)
        if "urls" not in self.present:
            values["urls"] = URL.findall(text)
        values["hashtags"] = [h.lstrip("#") for h in values.get("hashtags", []) if h.lstrip("#")]
        values["mentions"] = [m.lstrip("@") for m in values.get("mentions", []) if m.lstrip("@")]
        reposted_handle = extra.get("_reposted_handle")
        if kind == "repost" and reposted_handle and reposted_handle not in values["mentions"]:
            # twarc-csv puts the original's entities on a retweet row; the retweet names its source
            values["mentions"].insert(0, reposted_handle)
            if extra.get("_reposted_author_id"):
                values["mention_ids"] = [extra["_reposted_author_id"], *values.get("mention_ids", [])]
        if isinstance(values.get("edit_ids"), list) and len(values["edit_ids"]) < 2:
            values["edit_ids"] = []
        post = Post(
            platform=platform,
            observed_at=observed,
            kind=kind,
            source_file=sink.source_file,
            source_line=record.line,
            **values,
        )
        acc = None
        author_id = account.pop("id", None) or post.author_id
        if author_id and (account or post.author_handle):
            acc = Account(platform=platform, id=author_id, handle=post.author_handle, observed_at=observed, **account)
        return post, acc


def _quote(value: str, delimiter: str) -> str:
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _post_value(field: str, cell: str, dates: Any = None) -> Any:
    if field in LIST_FIELDS:
        return _list_value(field, cell)
    if field == "media_count":
        if cell.lstrip().startswith("["):
            return len(_list_value(field, cell))
        return _int_value(field, cell)
    if field in INT_FIELDS:
        return _int_value(field, cell)
    if field in DATE_FIELDS:
        return (dates or parse_date)(cell, field)
    return cell


def _account_value(field: str, cell: str, dates: Any = None) -> Any:
    if field in ACCOUNT_INT:
        return _int_value(field, cell)
    if field in ACCOUNT_BOOL:
        lowered = cell.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise InvalidValue(f"account {field} is not a boolean: {cell!r}")
    if field == "created_at":
        return (dates or parse_date)(cell, "author created_at")
    return cell


def _int_value(field: str, cell: str) -> int:
    text = cell.strip()
    try:
        return _in_range(field, int(text))
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError as exc:
        raise InvalidValue(f"{field} is not a number: {cell!r}") from exc
    if not number.is_integer():
        raise InvalidValue(f"{field} is not a whole number: {cell!r}")
    return _in_range(field, int(number))


def _in_range(field: str, value: int) -> int:
    if not 0 <= value <= MAX_COUNT:
        raise InvalidValue(f"{field} is out of range: {value}")
    return value


def _list_value(field: str, cell: str) -> list[str]:
    text = cell.strip()
    if text.startswith("["):
        try:
            value = msgspec.json.decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise InvalidValue(f"{field} is not a JSON list: {excerpt_of(cell, 60)!r}") from exc
        if not isinstance(value, list):
            raise InvalidValue(f"{field} is not a list")
        return [str(v) for v in value if v is not None]
    return [part for part in text.replace(",", " ").split() if part]


# Where a post's id stands in its address, per platform.
_ADDRESSES = (
    ("x", re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)")),
    ("reddit", re.compile(r"^https?://(?:www\.|old\.)?reddit\.com/r/[^/]+/comments/\w+/[^/]*/(\w+)")),
    ("reddit", re.compile(r"^https?://(?:www\.|old\.)?reddit\.com/r/[^/]+/comments/(\w+)")),
)


def post_address(url: str) -> tuple[str, str] | None:
    """``(platform, id)`` of a post from its address (X/Twitter status and Reddit links), else None."""
    text = url.strip()
    for platform, pattern in _ADDRESSES:
        match = pattern.match(text)
        if match:
            return platform, match.group(1)
    return None


# Spreadsheet date forms: 15/12/2014 14:20, 12/15/14 2:20 PM, 15.12.2014 14:20:05, 15-12-2014
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


class DateParser:
    """Dates of a CSV file: ISO 8601, v1.1 style, Unix epoch, and spreadsheet forms with the day
    and month as numbers (``15/12/2014 14:20``). ``order`` (``dmy`` or ``mdy``) says which comes
    first; without it a date whose order is clear (a first number over 12 can only be a day) is
    read, and an ambiguous one (``05/12/2014``) is rejected rather than guessed. ``format`` (a
    :func:`datetime.strptime` format) reads every date with that format. Dates without a time
    zone are taken as UTC."""

    def __init__(self, order: str | None = None, format: str | None = None) -> None:
        if order not in (None, "dmy", "mdy"):
            raise UsageError(f"unknown date order {order!r}", "use dmy (--day-first) or mdy (--month-first)")
        self.order, self.format = order, format

    def __call__(self, cell: str, field: str = "created_at") -> datetime:
        text = cell.strip()
        if self.format:
            try:
                return utc(datetime.strptime(text, self.format))  # type: ignore[return-value]  # utc() is None only for None
            except ValueError as exc:
                raise InvalidValue(f"{field} does not match --date-format {self.format!r}: {cell!r}") from exc
        match = _NUMERIC_DATE.fullmatch(text)
        if match is None:
            return parse_date(cell, field)
        first, second, year, hour, minute, sec, half = match.groups()
        a, b = int(first), int(second)
        order = self.order
        if order is None:
            if a > 12 >= b:
                order = "dmy"
            elif b > 12 >= a:
                order = "mdy"
            elif a == b:
                order = "dmy"  # the same either way
            else:
                raise InvalidValue(
                    f"{field} {cell!r} could be day/month or month/day: give --day-first, "
                    "--month-first or --date-format"
                )
        day, month = (a, b) if order == "dmy" else (b, a)
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        h = int(hour or 0)
        if half:
            if not 1 <= h <= 12:
                raise InvalidValue(f"{field} has an hour {h} with {half}: {cell!r}")
            h = h % 12 + (12 if half.lower() == "pm" else 0)
        try:
            return datetime(full_year, month, day, h, int(minute or 0), int(sec or 0), tzinfo=UTC)
        except ValueError as exc:
            raise InvalidValue(f"{field} is not a date: {cell!r} ({exc})") from exc


def parse_date(cell: str, field: str = "created_at") -> datetime:
    """ISO 8601, v1.1 style or Unix epoch seconds (or milliseconds) -> aware UTC datetime."""
    text = cell.strip()
    if text.replace(".", "", 1).isdigit():
        seconds = float(text)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        return datetime.fromtimestamp(seconds, tz=UTC)
    if text[:3].isalpha():
        return parse_v1_date(text)  # type: ignore[return-value]  # parse_v1_date() is None only for None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise InvalidValue(f"{field} is not a date: {cell!r}") from exc
    return utc(value)  # type: ignore[return-value]  # utc() is None only for None


class _LineTracker:
    """Feeds lines to ``csv.reader`` and remembers which physical lines made the current row."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._line = 0
        self._offset = 0
        self._row: list[str] = []
        self.row_line = 0
        self.row_offset = 0

    def next_line(self) -> str | None:
        line = self._text.readline()
        if not line:
            return None
        self._line += 1
        self._offset += len(line.encode("utf-8", errors="surrogateescape"))
        return line

    def start_row(self) -> None:
        self._row = []
        self.row_line = self._line + 1
        self.row_offset = self._offset

    def row_text(self) -> str:
        return "".join(self._row).rstrip("\r\n")

    def __iter__(self) -> _LineTracker:
        return self

    def __next__(self) -> str:
        line = self.next_line()
        if line is None:
            raise StopIteration
        self._row.append(line)
        return line
