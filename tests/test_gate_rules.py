"""The regression gate's rules, through `evalkit.compare.gate` on runs built with evalkit's own scorers.

Reference = the human Malay translation of the shipped pivot; the baseline's
candidates are that translation (chrF 100) unless a test says otherwise.
"""

import pytest

from evalkit.compare import RULES, default_paragraph_rules, gate
from evalkit.results import single_document_run, AlignmentRecord, DocumentRecord, ParagraphResult, RunResult, Score, SystemResult
from evalkit.scorers import METRICS, default_gate_margins
from test_check import BAD, GOOD, PIVOT_DOC

SOURCES = [p.text for p in PIVOT_DOC.paragraphs]
LOREM = "Lorem ipsum dolor sit amet."


def _run(candidates, metrics=("chrf", "chrf++", "bleu", "ter"), run_id="run"):
    systems_scores, paragraphs = {}, []
    scorers = {}
    for name in metrics:
        scorer = METRICS.get(name)("ms", None, "vi")
        scorer.load()
        scorers[name] = scorer
    per_paragraph = {m: s.paragraph_scores(candidates, GOOD, SOURCES) for m, s in scorers.items()}
    details = {m: s.paragraph_details(candidates, GOOD, SOURCES) for m, s in scorers.items()}
    for i, (source, reference, candidate) in enumerate(zip(SOURCES, GOOD, candidates)):
        paragraphs.append(ParagraphResult(
            [i + 1], [i + 1], source, reference, candidate, 1.0, scores={m: per_paragraph[m][i] for m in scorers},
            details={m: details[m][i] for m in scorers if details[m] is not None}))
    for m, s in scorers.items():
        systems_scores[m] = Score(s.corpus_score(candidates, GOOD, SOURCES).score, s.signature())
    system = SystemResult("mt", "precomputed", None, "ok", corpus_scores=systems_scores, paragraphs=paragraphs)
    document = lambda lang: DocumentRecord(f"doc.{lang}", lang, lang, 1.0, len(GOOD), [], [])  # noqa: E731
    return single_document_run(run_id, "", "", {"metric_options": {}}, document("vi"), document("ms"),
                     AlignmentRecord([], [], [], True, 1.0, ""), [system])


def _gate(before, after, **settings):
    drops, worse = default_paragraph_rules()
    options = {"max_drop": default_gate_margins(), "max_paragraph_drop": drops, "max_paragraphs_worse": worse,
               "resamples": 300, "trials": 2000, **settings}
    return gate(before, after, **options)


def _decision(outcome, metric):
    return next(d for d in outcome.decisions if d.metric == metric)


@pytest.fixture(scope="module")
def human():
    return _run(list(GOOD), run_id="human")


def test_lorem_ipsum_in_three_paragraphs_fails_on_magnitude(human):
    lorem = [LOREM if i in (3, 8, 13) else g for i, g in enumerate(GOOD)]
    outcome = _gate(human, _run(lorem))
    assert not outcome.passed
    chrf = _decision(outcome, "chrf")
    assert chrf.failed and chrf.changed == 3 and chrf.underpowered and chrf.p_floor >= 0.25
    assert chrf.decided_by == ["magnitude", "paragraph drop"]
    assert "3 paragraphs changed: a significance test cannot decide" in chrf.reason
    assert "judged on magnitude" in chrf.reason
    assert [p["source_lines"] for p in chrf.worst_paragraphs] and all(p["drop"] > 90 for p in chrf.worst_paragraphs)
    assert len(chrf.paragraph_failures) == 3
    # the same reasons, one line each, in the failures
    assert any(f.startswith("mt chrf: 100.00 →") and "judged on magnitude" in f for f in outcome.failures)
    assert all("\n" not in f for f in outcome.failures)
    data = outcome.to_dict()
    assert data["decisions"][0]["p_floor"] >= 0.25 and data["decisions"][0]["decided_by"]
    assert set(RULES) >= {r for d in outcome.decisions for r in d.decided_by}


def test_a_large_drop_on_many_paragraphs_fails_on_significance(human):
    outcome = _gate(human, _run(list(BAD)), max_paragraph_drop={})
    chrf = _decision(outcome, "chrf")
    assert chrf.decided_by == ["significance"] and not chrf.underpowered and chrf.p < 0.05


def test_powered_but_mixed_changes_are_noise_and_pass(human):
    """Half the paragraphs get better, half worse: the tests can decide, and they say noise."""
    worse_even = [BAD[i] if i % 2 == 0 else GOOD[i] for i in range(len(GOOD))]
    worse_odd = [BAD[i] if i % 2 else GOOD[i] for i in range(len(GOOD))]
    a, b = _run(worse_even, run_id="a"), _run(worse_odd, run_id="b")
    # whichever way round is a (small) drop in chrF
    before, after = (a, b) if b.systems[0].corpus_scores["chrf"].score < a.systems[0].corpus_scores["chrf"].score else (b, a)
    outcome = _gate(before, after, max_drop={"chrf": 0.0}, max_paragraph_drop={})
    chrf = _decision(outcome, "chrf")
    assert chrf.drop > 0 and not chrf.underpowered
    assert chrf.decided_by == ["within noise"] and not chrf.failed
    assert any("within noise" in n for n in outcome.notes)


def test_without_significance_the_margin_is_a_plain_threshold(human):
    one = [BAD[5] if i == 5 else g for i, g in enumerate(GOOD)]
    outcome = _gate(human, _run(one), significance=False, max_paragraph_drop={})
    assert _decision(outcome, "chrf").decided_by == ["threshold"]
    assert any("significance not tested" in f for f in outcome.failures)


def test_a_small_drop_within_the_margin_passes(human):
    comma = [g.replace(",", "", 1) if i == 5 else g for i, g in enumerate(GOOD)]
    outcome = _gate(human, _run(comma))
    assert outcome.passed, outcome.failures
    assert _decision(outcome, "chrf").decided_by == ["within margin"]


def test_paragraphs_worse_is_a_rule_for_any_metric(human):
    comma = [g.replace(",", "", 1) if i == 5 else g for i, g in enumerate(GOOD)]
    after = _run(comma)
    failed = _gate(human, after, max_paragraphs_worse={"chrf": 0})
    assert not failed.passed and _decision(failed, "chrf").decided_by == ["paragraphs worse"]
    assert any("1 paragraph(s) scored lower than in the baseline (at most 0 allowed)" in f for f in failed.failures)
    assert _gate(human, after, max_paragraphs_worse={"chrf": 1}).passed


@pytest.mark.skipif("numbers" not in METRICS, reason="the numbers metric has not landed")
def test_a_changed_number_fails_through_the_numbers_metric_by_default():
    metrics = ("chrf", "numbers")
    baseline = _run(list(GOOD), metrics, run_id="base")
    index = next(i for i, g in enumerate(GOOD) if "1973" in g)
    changed = [g.replace("1973", "1937") if i == index else g for i, g in enumerate(GOOD)]
    outcome = _gate(baseline, _run(changed, metrics))
    assert not outcome.passed
    numbers = _decision(outcome, "numbers")
    assert "paragraphs worse" in numbers.decided_by
    assert numbers.paragraph_failures == [] and numbers.worst_paragraphs[0]["source_lines"] == [index + 1]
    line = next(f for f in outcome.failures if f.startswith("mt numbers:") and "scored lower" in f)
    assert "(lost: 1973 changed to 1937)" in line  # read from the paragraph's details
    # chrF alone would have let it through
    assert not _decision(outcome, "chrf").failed
