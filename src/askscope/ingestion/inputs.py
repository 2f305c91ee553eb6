"""Opening inputs: paths, folders, ``-`` for stdin, and gzip / bz2 / xz / zstd / zip content.

Compression is recognised by its magic bytes, not by the file name, so ``tweets.jsonl`` that is
really gzip still works. A zip archive is expanded into one input per member. Each opened input
keeps a SHA-256 of its decompressed content (so the same data compressed differently is known as
the same) and reports how far it has read for the progress bar.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from askscope.errors import InputError

READ_BUFFER = 1 << 20
MAX_HEAD_BYTES = 64 << 20
#: A compressed input that has given more than this many bytes and more than :data:`BOMB_RATIO`
#: times what it read from disk is treated as a decompression bomb: its reading stops there (a
#: ``decompression_bomb`` reject; what came before stays). Real exports compress 5 to 30 times.
BOMB_BYTES = 1 << 30
BOMB_RATIO = 1000
MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",
}
STDIN_NAME = "<stdin>"


def compression_of(head: bytes) -> str | None:
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


@dataclass(slots=True)
class InputSource:
    """One input to read: a file, a zip member or stdin."""

    name: str
    path: str | None
    size: int | None
    member: str | None = None
    #: Found by expanding a folder (not named by the user): an unknown format is skipped, not fatal.
    from_folder: bool = False

    @property
    def is_stdin(self) -> bool:
        return self.path is None


class _HashingReader(io.RawIOBase):
    """Passes bytes through, hashing and counting them. A damaged compressed stream ends the
    input where the damage starts; ``damage`` then says what happened."""

    def __init__(
        self,
        inner: BinaryIO,
        hasher: hashlib._Hash,
        compressed: Callable[[], int] | None = None,
    ) -> None:
        self._inner = inner
        self._hasher = hasher
        self.count = 0
        self.damage: str | None = None
        #: Why reading stopped: "truncated_input" (damaged data) or "decompression_bomb".
        self.reason = "truncated_input"
        self._compressed = compressed

    def readable(self) -> bool:
        return True

    # typeshed types the argument as any writable buffer; io always passes a memoryview
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.damage is not None:
            return 0
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, OSError, zlib.error, lzma.LZMAError, zstandard.ZstdError, zipfile.BadZipFile) as exc:
            self.damage = f"the compressed data is damaged or cut short after {self.count:,} bytes: {exc}"
            return 0
        n = len(data)
        buffer[:n] = data
        if n:
            self._hasher.update(data)
            self.count += n
            if self._compressed is not None and self.count > BOMB_BYTES:
                on_disk = max(self._compressed(), 1)
                if self.count > BOMB_RATIO * on_disk:
                    self.reason = "decompression_bomb"
                    self.damage = (
                        f"the input gave {self.count:,} bytes from {on_disk:,} compressed bytes, more than "
                        f"{BOMB_RATIO:,} times its size: reading stopped there (a decompression bomb?)"
                    )
        return n


class _PrefixedReader(io.RawIOBase):
    """Yields ``prefix`` first, then the rest of ``inner`` (to re-read bytes used for sniffing)."""

    def __init__(self, prefix: bytes, inner: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._inner = inner

    def readable(self) -> bool:
        return True

    # typeshed types the argument as any writable buffer; io always passes a memoryview
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if len(self._prefix):
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


class OpenedInput:
    """An input opened for reading: ``stream`` (decompressed, from the start), ``head`` (its first
    bytes), ``sha256()`` once read to the end, ``progress()`` in bytes of the file on disk."""

    def __init__(self, source: InputSource, head_bytes: int) -> None:
        self.source = source
        self._closers: list[Callable[[], None]] = []
        self._hasher = hashlib.sha256()
        raw, self._position = self._open_raw(source)
        magic = raw.read(8)
        self.compression = compression_of(magic)
        prefixed = _PrefixedReader(magic, raw)
        decompressed = self._decompress(io.BufferedReader(prefixed, READ_BUFFER), self.compression)
        self._hashing = _HashingReader(decompressed, self._hasher, self._position if self.compression else None)
        buffered = io.BufferedReader(self._hashing, READ_BUFFER)
        head = buffered.read(head_bytes)
        # A twarc2 page is one line of up to a few MB: sniffers need the whole first line.
        chunks = [head]
        size = len(head)
        while size >= head_bytes and b"\n" not in chunks[-1].lstrip() and size < MAX_HEAD_BYTES:
            more = buffered.read(head_bytes)
            if not more:
                break
            chunks.append(more)
            size += len(more)
        self.head = b"".join(chunks)
        self.stream: BinaryIO = io.BufferedReader(_PrefixedReader(self.head, buffered), READ_BUFFER)

    def _open_raw(self, source: InputSource) -> tuple[BinaryIO, Callable[[], int]]:
        if source.is_stdin:
            stdin = sys.stdin.buffer
            counter = _CountingReader(stdin)
            # a binary file object, but typeshed's io/zip/compression classes are not typing.BinaryIO
            return counter, lambda: counter.count  # type: ignore[return-value]
        assert source.path is not None
        try:
            if source.member is not None:
                archive = zipfile.ZipFile(source.path)
                self._closers.append(archive.close)
                handle = archive.open(source.member)
                self._closers.append(handle.close)
                # a binary file object, but typeshed's io/zip/compression classes are not typing.BinaryIO
                return handle, handle.tell if hasattr(handle, "tell") else (lambda: 0)  # type: ignore[return-value]
            handle = open(source.path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(
                f"cannot read {source.name}: {exc.strerror or exc}", "check the path and its permissions"
            ) from exc
        self._closers.append(handle.close)
        return handle, handle.tell

    def _decompress(self, raw: BinaryIO, compression: str | None) -> BinaryIO:
        if compression == "gzip":
            # a binary file object, but typeshed's io/zip/compression classes are not typing.BinaryIO
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        if compression == "bz2":
            # a binary file object, but typeshed's io/zip/compression classes are not typing.BinaryIO
            return bz2.BZ2File(raw, "rb")  # type: ignore[return-value]
        if compression == "xz":
            # a binary file object, but typeshed's io/zip/compression classes are not typing.BinaryIO
            return lzma.LZMAFile(raw, "rb")  # type: ignore[return-value]
        if compression == "zstd":
            return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        if compression == "zip":
            raise InputError(
                f"{self.source.name} is a zip archive inside another input", "unpack the nested archive first"
            )
        return raw

    @property
    def damage(self) -> str | None:
        """Why the input ended early (damaged compression), or None."""
        return self._hashing.damage

    @property
    def damage_reason(self) -> str:
        """The reject reason of :attr:`damage`: ``truncated_input`` or ``decompression_bomb``."""
        return self._hashing.reason

    @property
    def bytes_read(self) -> int:
        """Decompressed bytes read so far."""
        return self._hashing.count

    def progress(self) -> int:
        try:
            return int(self._position())
        except (OSError, ValueError):
            return 0

    def sha256(self) -> str:
        return self._hasher.hexdigest()

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except OSError:
                pass

    def __enter__(self) -> OpenedInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CountingReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    # typeshed types the argument as any writable buffer; io always passes a memoryview
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def expand_paths(paths: list[str] | tuple[str, ...]) -> Iterator[InputSource]:
    """Inputs for command-line paths: files, every file in a folder (sorted, hidden ones
    skipped), each member of a zip archive, ``-`` for stdin. Raises :class:`InputError` for a
    path that does not exist."""
    for path in paths:
        if path == "-":
            yield InputSource(name=STDIN_NAME, path=None, size=None)
            continue
        p = Path(path)
        if p.is_dir():
            files = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not files:
                raise InputError(f"folder {path} holds no files", "give files or a folder with files")
            for f in files:
                for source in _file_sources(str(f)):
                    source.from_folder = True
                    yield source
            continue
        if not p.exists():
            raise InputError(f"no such file: {path}", "check the path (use - to read standard input)")
        yield from _file_sources(path)


def _file_sources(path: str) -> Iterator[InputSource]:
    name = os.path.normpath(path)
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", "check the path and its permissions") from exc
    if compression_of(magic) == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = [
                    i for i in archive.infolist() if not i.is_dir() and not os.path.basename(i.filename).startswith(".")
                ]
        except zipfile.BadZipFile as exc:
            raise InputError(f"{path} is a damaged zip archive: {exc}", "re-create the archive") from exc
        for info in members:
            yield InputSource(
                name=f"{name}:{info.filename}", path=os.path.abspath(path), size=info.file_size, member=info.filename
            )
        return
    yield InputSource(name=name, path=os.path.abspath(path), size=size)
