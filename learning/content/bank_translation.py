"""A translated question against its source: what differs in grading, and the source's keys."""

from __future__ import annotations

from dataclasses import replace

from learning.content.questions import Question


def grading_differences(source: Question, translated: Question) -> list[str]:
    """What differs, in grading terms, between a question and its translation."""
    found = []
    if translated.kind != source.kind:
        return [f"kind '{translated.kind}' differs from the source's '{source.kind}'"]
    if translated.points != source.points:
        found.append(f"points {translated.points} differ from the source's {source.points}")
    if source.kind in ("single", "multiple"):
        ours, theirs = source.spec["options"], translated.spec["options"]
        if len(ours) != len(theirs):
            found.append(f"has {len(theirs)} options; the source has {len(ours)}")
        elif [c.correct for c in ours] != [c.correct for c in theirs]:
            found.append("marks different options correct than the source (keys differ)")
    elif source.kind in ("true_false", "numeric"):
        for key in ("answer", "tolerance"):
            if translated.spec.get(key) != source.spec.get(key):
                found.append(f"'{key}' {translated.spec.get(key)} differs from the source's "
                             f"{source.spec.get(key)}")
    elif source.kind == "matching":
        if (len(translated.spec["pairs"]), len(translated.spec["rights"])) != \
                (len(source.spec["pairs"]), len(source.spec["rights"])):
            found.append("has a different number of pairs or distractors than the source")
    elif source.kind == "ordering" and len(translated.spec["items"]) != \
            len(source.spec["items"]):
        found.append("has a different number of items than the source")
    elif source.kind == "short_text" and \
            translated.spec["case_sensitive"] != source.spec["case_sensitive"]:
        found.append("'case_sensitive' differs from the source")
    if source.kind == "scenario":
        if [p.id for p in translated.parts] != [p.id for p in source.parts]:
            found.append("has different linked questions than the source")
        else:
            for ours, theirs in zip(source.parts, translated.parts, strict=True):
                found.extend(f"part '{ours.id}' {m}" for m in grading_differences(ours, theirs))
    return found


def with_source_keys(source: Question, translated: Question) -> Question:
    """The translated texts on the source's keys and answers, so grading is the source's."""
    spec = dict(source.spec)
    if source.kind in ("single", "multiple"):
        spec["options"] = tuple(replace(theirs, key=ours.key, correct=ours.correct)
                                for ours, theirs in zip(source.spec["options"],
                                                        translated.spec["options"], strict=True))
    elif source.kind == "matching":
        spec["pairs"] = tuple((ours[0], theirs[1], ours[2]) for ours, theirs in
                              zip(source.spec["pairs"], translated.spec["pairs"], strict=True))
        spec["rights"] = tuple((ours[0], theirs[1]) for ours, theirs in
                               zip(source.spec["rights"], translated.spec["rights"], strict=True))
    elif source.kind == "ordering":
        spec["items"] = tuple((ours[0], theirs[1]) for ours, theirs in
                              zip(source.spec["items"], translated.spec["items"], strict=True))
    elif source.kind in ("numeric", "true_false"):
        spec = dict(translated.spec, **{k: source.spec[k] for k in ("answer", "tolerance")
                                        if k in source.spec})
    elif source.kind == "short_text":  # the source's answers stay right, the language's too
        spec["accept"] = tuple(dict.fromkeys((*source.spec["accept"],
                                              *translated.spec["accept"])))
    elif source.kind == "scenario":
        spec = dict(translated.spec)
    parts = tuple(with_source_keys(o, t) for o, t in zip(source.parts, translated.parts,
                                                          strict=True))
    return replace(translated, spec=spec, parts=parts, tags=source.tags, points=source.points)
