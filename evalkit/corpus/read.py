"""Read a corpus file into numbered lines.

Line numbers are 1-based positions in the original file and travel with every
paragraph to the report, so a user can always find the text a score came from.
One non-empty line is one paragraph: that is how web scrapes (and this corpus)
store text, and it keeps captions and list items from being glued together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evalkit.corpus.clean import CleanDocument, clean_document
from evalkit.errors import CorpusError


@dataclass(frozen=True)
class RawDocument:
    path: Path
    lines: tuple[str, ...]  # as in the file, without line terminators; index + 1 = line number


def read_document(path: Path) -> RawDocument:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: corpus file not found") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: expected a text file, found a directory") from None
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    lines = tuple(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if not any(line.strip() for line in lines):
        raise CorpusError(f"{path}: the file has no text")
    return RawDocument(path=path, lines=lines)


def load_document(path: Path) -> CleanDocument:
    """Read and clean in one call: what the pipeline and notebooks want."""
    return clean_document(read_document(path))
