"""GIFT answer blocks: one converter per answer form, each to one of our question kinds.

Each converter reads the text between '{' and '}' of one question and returns our kind
and its fields, or None after recording on the question why it was skipped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from learning.content.importers.bank import tidy_number
from learning.content.importers.gift_syntax import decode

if TYPE_CHECKING:
    from learning.content.importers.gift import GiftQuestion

Converted = tuple[str, dict[str, Any]] | None  # (our kind, its fields), or None when skipped

_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


@dataclass
class Answer:
    """One answer of an answer block: its marker ('=', '~' or ''), weight, text, feedback."""

    marker: str
    weight: float | None
    text: str
    feedback: str
    line: int

    @property
    def value(self) -> float:
        """The answer's weight in percent: its own, else 100 for '=' and 0 for '~'."""
        if self.weight is not None:
            return self.weight
        return 100.0 if self.marker == "=" else 0.0


def convert_answers(question: GiftQuestion, body: str, offset: int) -> Converted:
    """Pick the converter from the form of the answer block ``body``."""
    if body.startswith("#"):
        return numeric(question, body[1:], offset + 1)
    if "~" in body:
        return choice(question, body, offset)
    if "=" in body and "->" in body:
        return matching(question, body, offset)
    head = body.split("#", 1)[0].strip()
    if head.upper() in _TRUE_FALSE:
        return true_false(question, body)
    return short_text(question, body, offset)


def split_answers(question: GiftQuestion, body: str, offset: int,
                  markers: str = "=~") -> list[Answer]:
    """'=a#fb ~%50%b' -> answers; text before the first marker is an error."""
    found = []
    pieces = re.split(f"([{re.escape(markers)}])", body)
    position = offset
    leading = pieces[0]
    if leading.strip():
        question.fail(position + len(leading) - len(leading.lstrip()),
                      f"answer '{decode(leading.strip())}' does not start with '=' (right) "
                      "or '~' (wrong)")
    position += len(leading)
    for marker, chunk in zip(pieces[1::2], pieces[2::2], strict=True):
        line = question.block.line_at(position)
        position += len(marker) + len(chunk)
        weight = None
        match = _WEIGHT.match(chunk)
        if match:
            weight = float(match.group(1))
            chunk = chunk[match.end():]
        answer_text, _, feedback = chunk.partition("#")
        found.append(Answer(marker, weight, answer_text, feedback, line))
    return found


def choice(question: GiftQuestion, body: str, offset: int) -> Converted:
    """'~wrong =right' -> single choice; several right or weighted -> multiple response."""
    answers = split_answers(question, body, offset)
    options, seen = [], set()
    for answer in answers:
        text = question.text(answer.text)
        if not text:
            question.fail(answer.line, "an answer has no text", is_line=True)
            continue
        if text in seen:
            question.fail(answer.line, f"answer '{text}' appears twice", is_line=True)
        seen.add(text)
        option: dict[str, Any] = {"text": text}
        if answer.value > 0:
            option["correct"] = True
        feedback = question.text(answer.feedback)
        if feedback:
            option["feedback"] = feedback
        options.append(option)
    if question.errors:
        return None
    correct = [a for a in answers if a.value > 0]
    if not correct:
        question.fail(question.line, "no correct answer: mark the right answer with '=' or a "
                                     "positive weight such as '~%50%'", is_line=True)
        return None
    partial = sorted({a.value for a in answers if a.weight is not None} - {0.0, 100.0})
    if len(correct) == 1 and not partial:
        kind, limit = "single", 8
    else:
        kind, limit = "multiple", 10
        if partial:
            weights = ", ".join(f"%{tidy_number(w)}%" for w in partial)
            question.warn(f"answer weights {weights} simplified: options with a positive "
                          "weight are correct, the others wrong")
        else:
            question.warn("several correct answers: converted to a multiple-response "
                          "question (learners must choose all of them)")
    if not 2 <= len(options) <= limit:
        question.fail(question.line, f"a {kind} choice question needs 2 to {limit} answers, "
                                     f"not {len(options)}", is_line=True)
        return None
    return kind, {"options": options}


def true_false(question: GiftQuestion, body: str) -> Converted:
    """'T' or 'FALSE', with Moodle's optional feedback for the wrong and the right answer."""
    head, *feedback = body.split("#", 2)
    answer = _TRUE_FALSE[head.strip().upper()]
    wrong = question.text(feedback[0]) if feedback else ""
    right = question.text(feedback[1]) if len(feedback) > 1 else ""
    fields: dict[str, Any] = {"answer": answer}
    # Moodle: the first feedback is shown for the wrong answer, the second for the right.
    true_text, false_text = (right, wrong) if answer else (wrong, right)
    if true_text:
        fields["feedback_true"] = true_text
    if false_text:
        fields["feedback_false"] = false_text
    return "true_false", fields


def short_text(question: GiftQuestion, body: str, offset: int) -> Converted:
    """'=answer =other' -> short text accepting every answer with a positive weight."""
    answers = split_answers(question, body, offset, markers="=")
    if question.errors:
        return None
    accept, dropped, feedback = [], [], False
    for answer in answers:
        text = question.text(answer.text)
        if not text:
            question.fail(answer.line, "an answer has no text", is_line=True)
            continue
        feedback = feedback or bool(answer.feedback.strip())
        if answer.value > 0:
            if text not in accept:
                accept.append(text)
            if answer.value != 100:
                dropped.append(f"%{tidy_number(answer.value)}%")
        else:
            dropped.append(f"'{text}' (%{tidy_number(answer.value)}%)")
    if question.errors:
        return None
    if not accept:
        question.fail(question.line, "no accepted answer: give at least one '=' answer",
                      is_line=True)
        return None
    if dropped:
        question.warn(f"answer weights simplified: {', '.join(dropped)}; answers with a "
                      "positive weight are accepted in full, the others dropped")
    if feedback:
        question.warn("per-answer feedback dropped: short-text questions have none")
    return "short_text", {"accept": accept}


def matching(question: GiftQuestion, body: str, offset: int) -> Converted:
    """'=left -> right' pairs; a pair with nothing on the left is a distractor."""
    answers = split_answers(question, body, offset, markers="=")
    pairs: list[dict[str, str]] = []
    distractors: list[str] = []
    for answer in answers:
        if "->" not in answer.text:
            question.fail(answer.line, f"matching answer '{question.text(answer.text)}' has no "
                                       "'->'", is_line=True)
            continue
        left, right = (question.text(part) for part in answer.text.split("->", 1))
        if not right:
            question.fail(answer.line, "a matching pair has nothing after '->'", is_line=True)
        elif left:
            pairs.append({"left": left, "right": right})
        else:
            distractors.append(right)
        if answer.feedback.strip() or answer.weight is not None:
            question.warn("weight or feedback on a matching pair dropped", answer.line)
    if question.errors:
        return None
    lefts = [p["left"] for p in pairs]
    rights = [p["right"] for p in pairs] + distractors
    if not 2 <= len(pairs) <= 8:
        question.fail(question.line, f"a matching question needs 2 to 8 pairs, not "
                                     f"{len(pairs)}", is_line=True)
        return None
    if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
        question.fail(question.line, "a matching question repeats a left or right item",
                      is_line=True)
        return None
    fields: dict[str, Any] = {"pairs": pairs}
    if distractors:
        fields["distractors"] = distractors
    return "matching", fields


def numeric(question: GiftQuestion, body: str, offset: int) -> Converted:
    """'#30:2', '#28..32' or '#=30 =%50%29' -> numeric, keeping the full-weight answer."""
    if body.lstrip().startswith("="):
        lead = len(body) - len(body.lstrip())
        answers = split_answers(question, body.lstrip(), offset + lead, markers="=")
    else:
        value, _, feedback = body.partition("#")
        answers = [Answer("=", None, value, feedback, question.block.line_at(offset))]
    parsed = []
    for answer in answers:
        result = numeric_value(question, answer)
        if result is not None:
            parsed.append((answer, result))
    if question.errors or not parsed:
        return None
    best_answer, (value, tolerance) = max(parsed, key=lambda item: item[0].value)
    if best_answer.value <= 0:
        question.fail(question.line, "no correct answer: give a numeric answer with full "
                                     "weight", is_line=True)
        return None
    if len(parsed) > 1 or best_answer.value != 100:
        question.warn(f"only the answer {tidy_number(value)} (±{tidy_number(tolerance)}) kept: "
                      "partial-credit numeric answers are not supported")
    if any(a.feedback.strip() for a in answers):
        question.warn("per-answer feedback dropped: numeric questions have none")
    return "numeric", {"answer": tidy_number(value), "tolerance": tidy_number(tolerance)}


def numeric_value(question: GiftQuestion, answer: Answer) -> tuple[float, float] | None:
    """'30:2' or '28..32' -> (value, tolerance); None after recording what is wrong."""
    raw = decode(answer.text).strip()

    def number(text: str) -> float | None:
        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            question.fail(answer.line, f"'{text.strip()}' is not a number", is_line=True)
            return None
        return value

    if ".." in raw:
        low_text, high_text = raw.split("..", 1)
        low, high = number(low_text), number(high_text)
        if low is None or high is None:
            return None
        low, high = min(low, high), max(low, high)
        return (low + high) / 2, (high - low) / 2
    value_text, colon, tolerance_text = raw.partition(":")
    value = number(value_text)
    tolerance = number(tolerance_text) if colon else 0.0
    if value is None or tolerance is None:
        return None
    if tolerance < 0:
        question.fail(answer.line, f"tolerance {tidy_number(tolerance)} must not be negative",
                      is_line=True)
        return None
    return value, tolerance
