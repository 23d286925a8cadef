import pytest

from evalkit.backends.batching import plan_batches, split_to_fit
from evalkit.errors import TranslationError


def words(text: str) -> int:
    return len(text.split())


def test_fitting_text_is_returned_whole():
    assert split_to_fit("a b c. d e.", words, 10) == ["a b c. d e."]


def test_split_at_sentence_ends_then_spaces():
    text = "One two three. Four five six! Seven eight nine?"
    assert split_to_fit(text, words, 6) == ["One two three. Four five six!", "Seven eight nine?"]
    thai_like = "ก ข ค ง จ ฉ ช ซ"  # no sentence punctuation: spaces are the only cut points
    pieces = split_to_fit(thai_like, words, 3)
    assert pieces == ["ก ข ค", "ง จ ฉ", "ช ซ"] and " ".join(pieces) == thai_like


def test_unsplittable_raises():
    with pytest.raises(TranslationError, match="does not truncate silently"):
        split_to_fit("x" * 50, len, 10)


def test_batches_respect_count_and_token_budget_longest_first():
    lengths = [5, 50, 10, 40, 10]
    assert plan_batches(lengths, batch_size=2, max_batch_tokens=None) == [[1, 3], [2, 4], [0]]
    assert plan_batches(lengths, batch_size=10, max_batch_tokens=100) == [[1, 3], [2, 4, 0]]
    assert sorted(i for b in plan_batches(lengths, 3, 60) for i in b) == [0, 1, 2, 3, 4]


def test_pieces_reassemble_in_order_and_count_finished_paragraphs():
    from evalkit.backends.base import Finished, Translations
    from evalkit.backends.batching import Pieces

    work = Pieces(["a b c d", "e"], words, 2)
    assert work.pieces == ["a b", "c d", "e"] and work.owner == [0, 0, 1] and work.counts == [2, 1]
    assert work.put(2, "E") == Finished(1, "E", 1)  # the short paragraph is done
    assert work.put(1, "CD") is None  # order of arrival does not matter
    assert work.put(0, "AB") == Finished(0, "AB CD", 2)
    assert work.result() == Translations(["AB CD", "E"], [2, 1])


def test_beam_batches_count_every_beam_against_the_token_budget():
    lengths = [30, 30, 30, 30, 10]
    assert plan_batches(lengths, batch_size=16, max_batch_tokens=120) == [[0, 1, 2, 3], [4]]
    assert plan_batches(lengths, batch_size=16, max_batch_tokens=120, beams=2) == [[0, 1], [2, 3], [4]]
    assert plan_batches(lengths, batch_size=16, max_batch_tokens=None, beams=4) == [[0, 1, 2, 3, 4]]
