"""Corpus pairing: one-line reasons for what was not paired, naming the closest document and the evidence.

A missing translation names the candidate that came closest (and whom it translates instead); an unpaired
document names the pivot it came closest to, or the better-scoring document that took its place.
"""

from __future__ import annotations

from evalkit.survey_fingerprint import shared_counts
from evalkit.survey_slots import Doc, Edge, SlotResult, language_name


def evidence(edge: Edge, pivot: Doc, cand: Doc) -> str:
    return f"pairing score {edge.verdict.score:.2f}, {shared_counts(pivot.print_, cand.print_)}"


def missing_reason(p: int, lang: str, pivots: list[Doc], cands: list[Doc], result: SlotResult) -> str:
    head = f"no {language_name(lang)} translation of {pivots[p].path.name} found"
    if not cands:
        return f"{head}: no {language_name(lang)} document in the folder"
    owner = result.owner()
    own = {e.cand for (q, _), (e, _) in result.kept.items() if q == p}
    mine = sorted((e for (q, c), e in result.edges.items() if q == p and c not in own), key=lambda e: e.key)
    tail = ""
    if own and len(result.group) > 1:  # close languages: say which document took the other slot, and why
        tail = "; " + "; ".join(f"{cands[e.cand].path.name} is its {language_name(l)} translation"
                                + (f" ({note})" if note else "")
                                for (q, l), (e, note) in result.kept.items() if q == p)
    if not mine:
        return f"{head}: no other candidate{tail}" if own else f"{head}: no candidate"
    accepted = [e for e in mine if e.verdict.is_translation]
    if accepted:
        e = accepted[0]
        if e.cand in result.released:
            return f"{head}: {cands[e.cand].path.name} {result.released[e.cand]}"
        if e.cand in owner:
            return (f"{head}: {cands[e.cand].path.name} translates it ({evidence(e, pivots[p], cands[e.cand])}) but "
                    f"pairs better with {pivots[owner[e.cand]].path.name}{tail}")
        if own:  # it translates this pivot, but the pivot's slots of this group are taken by better documents
            c = cands[e.cand]
            clear = c.evidence.clearly() if c.evidence is not None else None
            why = (f"it reads as {language_name(clear)} too ({c.evidence.describe()})" if clear
                   else "a better-scoring document took the slot")
            return f"{head}: {c.path.name} translates it ({evidence(e, pivots[p], c)}) but {why}{tail}"
    e = mine[0]
    elsewhere = f", and translates {pivots[owner[e.cand]].path.name}" if e.cand in owner else ""
    return (f"{head}; {cands[e.cand].path.name} is another article "
            f"({evidence(e, pivots[p], cands[e.cand])}{elsewhere}){tail}")


def unpaired_reason(k: int, pivots: list[Doc], cands: list[Doc], result: SlotResult) -> str:
    c = cands[k]
    if not pivots:
        return f"{'/'.join(map(language_name, result.group))}: no pivot in the folder to translate"
    if k in result.released:
        return result.released[k]
    mine = sorted((e for (_, j), e in result.edges.items() if j == k), key=lambda e: e.key)
    accepted = [e for e in mine if e.verdict.is_translation]
    if accepted:
        e = accepted[0]
        others = sorted(cands[x.cand].path.name for (q, _), (x, _) in result.kept.items() if q == e.pivot)
        return (f"a better-scoring document translates the same pivot ({', '.join(others) or 'none'} for "
                f"{pivots[e.pivot].path.name}; this one: score {e.verdict.score:.2f})")
    if mine:
        e = mine[0]
        return (f"not a translation of any pivot (closest: {pivots[e.pivot].path.name}, "
                f"{evidence(e, pivots[e.pivot], c)})")
    sl = result.shortlist
    best = int(sl.scores[:, k].argmax())
    return (f"not a translation of any pivot: no pivot's pre-filter ranked it among its closest "
            f"(closest: {pivots[best].path.name}, {shared_counts(pivots[best].print_, c.print_)})")
