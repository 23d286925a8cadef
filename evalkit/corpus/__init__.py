"""Corpus stage: files → documents of paragraphs that remember their line numbers."""

from evalkit.corpus.clean import CleanDocument, Dropped, Paragraph, clean_document
from evalkit.corpus.read import RawDocument, load_document, read_document

__all__ = [
    "CleanDocument",
    "Dropped",
    "Paragraph",
    "RawDocument",
    "clean_document",
    "load_document",
    "read_document",
]
