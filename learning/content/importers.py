"""Convert Moodle GIFT and Aiken question files into our question-bank YAML.

Pure functions: text in, plain dicts and problems out. Every problem carries the
source file's 1-based line, so a trainer can fix the original and convert again.
Errors are questions that were skipped; warnings are questions converted with a
loss (weights simplified, format markers dropped, placeholders to fill in).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from learning.content.problems import Problem
from learning.content.questions import TAG

EXPLANATION_PLACEHOLDER = "TODO: explain why the answer is right."
SOURCE_PLACEHOLDER = "TODO: name the source."
BLANK = "____"
FORMATS = ("gift", "aiken")
MAX_ID_LENGTH = 50
ID_WORDS = 6


@dataclass
class ImportResult:
    """The converted questions (plain dicts in our YAML schema) and what went wrong."""

    questions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_yaml(self) -> str:
        """A question bank file: ``questions:`` in readable block style."""
        return yaml.dump({"questions": self.questions}, Dumper=_BankDumper, sort_keys=False,
                         allow_unicode=True, width=100, default_flow_style=False)


class _BankDumper(yaml.SafeDumper):
    """safe_dump's dumper, with indented lists and multi-line text as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BankDumper.add_representer(str, _represent_str)


# --- shared helpers -----------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens ('' when nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _short_slug(text: str) -> str:
    """The slug of the first few words, cut at a word boundary."""
    words = re.sub(r"<[^>]*>", " ", text).split()
    slug = slugify(" ".join(words[:ID_WORDS]))
    if len(slug) > MAX_ID_LENGTH:
        slug = slug[:MAX_ID_LENGTH].rsplit("-", 1)[0] or slug[:MAX_ID_LENGTH]
    return slug.strip("-")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _clean(text: str) -> str:
    """Trim the text and each of its lines (so YAML can write it as a block)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\n".join(lines)


def detect_format(text: str, path: str) -> str | None:
    """'gift' or 'aiken' from the file's extension and contents; None when unclear."""
    suffix = PurePath(path).suffix.lower()
    if suffix == ".gift":
        return "gift"
    if re.search(r"^\s*ANSWER:\s*[A-Za-z]\s*$", text, re.MULTILINE):
        return "aiken"
    if suffix in (".txt", "") and ("::" in text or "{" in text):
        return "gift"
    return None


class _Builder:
    """Adds the fields every question needs and keeps ids unique within the file."""

    def __init__(self, path: str, tag: str | None) -> None:
        self.path = path
        self.tag = tag
        stem = slugify(PurePath(path).stem) or "bank"
        self.default_tag = f"imported/{stem}"
        self.used: set[str] = set()
        self.result = ImportResult()

    def error(self, line: int, message: str) -> None:
        self.result.problems.append(Problem(self.path, line, message))

    def add(self, line: int, name: str, kind: str, prompt: str, fields: dict[str, Any],
            explanation: str, warnings: list[tuple[int, str]],
            category_tag: str | None = None) -> dict[str, Any]:
        base = _short_slug(name) or _short_slug(prompt) or "question"
        qid, n = base, 1
        while qid in self.used:
            n += 1
            qid = f"{base}-{n}"
        self.used.add(qid)
        question: dict[str, Any] = {
            "id": qid,
            "kind": kind,
            "tags": [self.tag or category_tag or self.default_tag],
            "prompt": prompt,
            **fields,
        }
        if explanation:
            question["explanation"] = explanation
        else:
            question["explanation"] = EXPLANATION_PLACEHOLDER
            warnings.append((line, f"question '{qid}' has no general feedback: fill in the "
                                   "placeholder explanation"))
        question["sources"] = [SOURCE_PLACEHOLDER]
        warnings.append((line, f"question '{qid}' needs its source: fill in the placeholder"))
        self.result.questions.append(question)
        for warning_line, message in warnings:
            self.result.problems.append(Problem(self.path, warning_line, message, "warning"))
        return question


# --- GIFT ---------------------------------------------------------------------------------

_ESCAPABLE = "~=#{}:\\n"
# Escaped characters become private-use placeholders while parsing, so that '\=' is never
# read as a marker; they are turned back into text at the end.
_PLACEHOLDER = {ch: chr(0xE000 + i) for i, ch in enumerate(_ESCAPABLE)}
_DECODE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _PLACEHOLDER.items()})
_FORMAT_MARKER = re.compile(r"^\s*\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _encode(text: str) -> str:
    return re.sub(r"\\([~=#{}:\\n])", lambda m: _PLACEHOLDER[m.group(1)], text)


def _decode(text: str) -> str:
    return text.translate(_DECODE)


@dataclass
class _Block:
    """One GIFT question (or category line): its encoded text and where each line began."""

    text: str
    lines: list[int]  # source line of each line of ``text``

    def line_at(self, offset: int) -> int:
        return self.lines[min(self.text.count("\n", 0, offset), len(self.lines) - 1)]


@dataclass
class _Answer:
    """One answer of an answer block: its marker ('=', '~' or ''), weight, text, feedback."""

    marker: str
    weight: float | None
    text: str
    feedback: str
    line: int

    @property
    def value(self) -> float:
        if self.weight is not None:
            return self.weight
        return 100.0 if self.marker == "=" else 0.0


def _gift_blocks(text: str) -> list[_Block]:
    """Split into blank-line separated blocks, dropping '//' comment lines."""
    blocks: list[_Block] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        if not stripped:
            if current:
                blocks.append(_Block("\n".join(t for _, t in current), [n for n, _ in current]))
                current = []
            continue
        current.append((number, _encode(line.rstrip())))
    if current:
        blocks.append(_Block("\n".join(t for _, t in current), [n for n, _ in current]))
    return blocks


class _GiftQuestion:
    """Parses one GIFT block; collects errors (question skipped) and warnings (loss)."""

    def __init__(self, block: _Block, builder: _Builder, category_tag: str | None) -> None:
        self.block = block
        self.builder = builder
        self.category_tag = category_tag
        self.line = block.lines[0]
        self.errors: list[tuple[int, str]] = []
        self.warnings: list[tuple[int, str]] = []
        self.markers: set[str] = set()

    def fail(self, offset_or_line: int, message: str, *, is_line: bool = False) -> None:
        line = offset_or_line if is_line else self.block.line_at(offset_or_line)
        self.errors.append((line, message))

    def strip_marker(self, text: str) -> str:
        match = _FORMAT_MARKER.match(text)
        if match:
            self.markers.add(match.group(1).lower())
            return text[match.end():]
        return text

    def text(self, raw: str) -> str:
        return _clean(_decode(self.strip_marker(raw)))

    def convert(self) -> None:
        text, start = self.block.text, 0
        title = ""
        title_match = re.match(r"\s*::(.*?)::", text, re.DOTALL)
        if title_match:
            title = _clean(_decode(title_match.group(1)))
            start = title_match.end()
        opening = text.find("{", start)
        stray = text.find("}", start, opening if opening >= 0 else len(text))
        if stray >= 0:
            self.fail(stray, "'}' outside an answer block (write '\\}' for a literal brace)")
        if opening < 0:
            if stray < 0:
                self.fail(start, "no answer block '{...}': description questions are not "
                                 "supported")
            return self.report()
        closing = text.find("}", opening)
        if closing < 0:
            self.fail(opening, "unclosed '{': the answer block has no '}'")
            return self.report()
        if text.find("{", closing) >= 0:
            self.fail(text.find("{", closing), "more than one answer block: embedded (cloze) "
                                               "answers are not supported")
            return self.report()
        before = self.strip_marker(text[start:opening]).strip()
        after = text[closing + 1:].strip()
        prompt = f"{before} {BLANK} {after}".strip() if after else before
        prompt = _clean(_decode(prompt))
        answers = text[opening + 1:closing]
        if not answers.strip():
            self.fail(opening, "essay questions (an empty answer block '{}') are not supported")
            return self.report()
        if not prompt:
            self.fail(start, "the question has no text")
        general = ""
        if "####" in answers:
            answers, general = answers.split("####", 1)
            general = self.text(general)
        body_offset = opening + 1 + (len(answers) - len(answers.lstrip()))
        body = answers.strip()
        converted = self.convert_answers(body, body_offset)
        if self.markers - {"plain"}:
            names = ", ".join(f"[{m}]" for m in sorted(self.markers - {"plain"}))
            self.warnings.append((self.line, f"format marker {names} dropped: check that the "
                                             "text reads well as Markdown"))
        if converted is not None and not self.errors:
            kind, fields = converted
            self.builder.add(self.line, title, kind, prompt, fields, general, self.warnings,
                             self.category_tag)
        return self.report()

    def report(self) -> None:
        for line, message in self.errors:
            self.builder.error(line, message)

    def convert_answers(self, body: str, offset: int) -> tuple[str, dict[str, Any]] | None:
        if body.startswith("#"):
            return self.numeric(body[1:], offset + 1)
        if "~" in body:
            return self.choice(body, offset)
        if "=" in body and "->" in body:
            return self.matching(body, offset)
        head = body.split("#", 1)[0].strip()
        if head.upper() in _TRUE_FALSE:
            return self.true_false(body)
        return self.short_text(body, offset)

    def split_answers(self, body: str, offset: int, markers: str = "=~") -> list[_Answer]:
        """'=a#fb ~%50%b' -> answers; text before the first marker is an error."""
        found = []
        pieces = re.split(f"([{re.escape(markers)}])", body)
        position = offset
        leading = pieces[0]
        if leading.strip():
            self.fail(position + len(leading) - len(leading.lstrip()),
                      f"answer '{_decode(leading.strip())}' does not start with '=' (right) "
                      "or '~' (wrong)")
        position += len(leading)
        for marker, chunk in zip(pieces[1::2], pieces[2::2], strict=True):
            line = self.block.line_at(position)
            position += len(marker) + len(chunk)
            weight = None
            match = _WEIGHT.match(chunk)
            if match:
                weight = float(match.group(1))
                chunk = chunk[match.end():]
            answer_text, _, feedback = chunk.partition("#")
            found.append(_Answer(marker, weight, answer_text, feedback, line))
        return found

    def choice(self, body: str, offset: int) -> tuple[str, dict[str, Any]] | None:
        answers = self.split_answers(body, offset)
        options, seen = [], set()
        for answer in answers:
            text = self.text(answer.text)
            if not text:
                self.fail(answer.line, "an answer has no text", is_line=True)
                continue
            if text in seen:
                self.fail(answer.line, f"answer '{text}' appears twice", is_line=True)
            seen.add(text)
            option: dict[str, Any] = {"text": text}
            if answer.value > 0:
                option["correct"] = True
            feedback = self.text(answer.feedback)
            if feedback:
                option["feedback"] = feedback
            options.append(option)
        if self.errors:
            return None
        correct = [a for a in answers if a.value > 0]
        if not correct:
            self.fail(self.line, "no correct answer: mark the right answer with '=' or a "
                                 "positive weight such as '~%50%'", is_line=True)
            return None
        partial = sorted({a.value for a in answers if a.weight is not None} - {0.0, 100.0})
        if len(correct) == 1 and not partial:
            kind, limit = "single", 8
        else:
            kind, limit = "multiple", 10
            if partial:
                weights = ", ".join(f"%{_number(w)}%" for w in partial)
                self.warnings.append((self.line, f"answer weights {weights} simplified: options "
                                                 "with a positive weight are correct, the "
                                                 "others wrong"))
            else:
                self.warnings.append((self.line, "several correct answers: converted to a "
                                                 "multiple-response question (learners must "
                                                 "choose all of them)"))
        if not 2 <= len(options) <= limit:
            self.fail(self.line, f"a {kind} choice question needs 2 to {limit} answers, not "
                                 f"{len(options)}", is_line=True)
            return None
        return kind, {"options": options}

    def true_false(self, body: str) -> tuple[str, dict[str, Any]]:
        head, *feedback = body.split("#", 2)
        answer = _TRUE_FALSE[head.strip().upper()]
        wrong = self.text(feedback[0]) if feedback else ""
        right = self.text(feedback[1]) if len(feedback) > 1 else ""
        fields: dict[str, Any] = {"answer": answer}
        # Moodle: the first feedback is shown for the wrong answer, the second for the right.
        true_text, false_text = (right, wrong) if answer else (wrong, right)
        if true_text:
            fields["feedback_true"] = true_text
        if false_text:
            fields["feedback_false"] = false_text
        return "true_false", fields

    def short_text(self, body: str, offset: int) -> tuple[str, dict[str, Any]] | None:
        answers = self.split_answers(body, offset, markers="=")
        if self.errors:
            return None
        accept, dropped, feedback = [], [], False
        for answer in answers:
            text = self.text(answer.text)
            if not text:
                self.fail(answer.line, "an answer has no text", is_line=True)
                continue
            feedback = feedback or bool(answer.feedback.strip())
            if answer.value > 0:
                if text not in accept:
                    accept.append(text)
                if answer.value != 100:
                    dropped.append(f"%{_number(answer.value)}%")
            else:
                dropped.append(f"'{text}' (%{_number(answer.value)}%)")
        if self.errors:
            return None
        if not accept:
            self.fail(self.line, "no accepted answer: give at least one '=' answer",
                      is_line=True)
            return None
        if dropped:
            self.warnings.append((self.line, f"answer weights simplified: {', '.join(dropped)}; "
                                             "answers with a positive weight are accepted in "
                                             "full, the others dropped"))
        if feedback:
            self.warnings.append((self.line, "per-answer feedback dropped: short-text "
                                             "questions have none"))
        return "short_text", {"accept": accept}

    def matching(self, body: str, offset: int) -> tuple[str, dict[str, Any]] | None:
        answers = self.split_answers(body, offset, markers="=")
        pairs: list[dict[str, str]] = []
        distractors: list[str] = []
        for answer in answers:
            if "->" not in answer.text:
                self.fail(answer.line, f"matching answer '{self.text(answer.text)}' has no "
                                       "'->'", is_line=True)
                continue
            left, right = (self.text(part) for part in answer.text.split("->", 1))
            if not right:
                self.fail(answer.line, "a matching pair has nothing after '->'", is_line=True)
            elif left:
                pairs.append({"left": left, "right": right})
            else:
                distractors.append(right)
            if answer.feedback.strip() or answer.weight is not None:
                self.warnings.append((answer.line, "weight or feedback on a matching pair "
                                                   "dropped"))
        if self.errors:
            return None
        lefts = [p["left"] for p in pairs]
        rights = [p["right"] for p in pairs] + distractors
        if not 2 <= len(pairs) <= 8:
            self.fail(self.line, f"a matching question needs 2 to 8 pairs, not {len(pairs)}",
                      is_line=True)
            return None
        if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
            self.fail(self.line, "a matching question repeats a left or right item",
                      is_line=True)
            return None
        fields: dict[str, Any] = {"pairs": pairs}
        if distractors:
            fields["distractors"] = distractors
        return "matching", fields

    def numeric(self, body: str, offset: int) -> tuple[str, dict[str, Any]] | None:
        if body.lstrip().startswith("="):
            lead = len(body) - len(body.lstrip())
            answers = self.split_answers(body.lstrip(), offset + lead, markers="=")
        else:
            value, _, feedback = body.partition("#")
            answers = [_Answer("=", None, value, feedback, self.block.line_at(offset))]
        parsed = []
        for answer in answers:
            result = self.numeric_value(answer)
            if result is not None:
                parsed.append((answer, result))
        if self.errors or not parsed:
            return None
        best_answer, (value, tolerance) = max(parsed, key=lambda item: item[0].value)
        if best_answer.value <= 0:
            self.fail(self.line, "no correct answer: give a numeric answer with full weight",
                      is_line=True)
            return None
        if len(parsed) > 1 or best_answer.value != 100:
            self.warnings.append((self.line, f"only the answer {_number(value)} (±"
                                             f"{_number(tolerance)}) kept: partial-credit "
                                             "numeric answers are not supported"))
        if any(a.feedback.strip() for a in answers):
            self.warnings.append((self.line, "per-answer feedback dropped: numeric questions "
                                             "have none"))
        return "numeric", {"answer": _number(value), "tolerance": _number(tolerance)}

    def numeric_value(self, answer: _Answer) -> tuple[float, float] | None:
        raw = _decode(answer.text).strip()

        def number(text: str) -> float | None:
            try:
                value = float(text.strip())
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                self.fail(answer.line, f"'{text.strip()}' is not a number", is_line=True)
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
            self.fail(answer.line, f"tolerance {_number(tolerance)} must not be negative",
                      is_line=True)
            return None
        return value, tolerance


def _category_tag(block: _Block) -> str | None:
    """'$CATEGORY: $course$/top/Border checks' -> 'moodle/border-checks'."""
    value = _decode(block.text.split("\n", 1)[0].split(":", 1)[1]).strip()
    parts = [p for p in re.split(r"(?<!/)/(?!/)", value) if p.strip()]
    slug = slugify(parts[-1].replace("//", "/")) if parts else ""
    return f"moodle/{slug}" if slug else None


def import_gift(text: str, path: str, tag: str | None = None) -> ImportResult:
    """Convert a Moodle GIFT file; ``tag`` (if given) replaces the category/file tag."""
    builder = _Builder(path, tag)
    category_tag: str | None = None
    for block in _gift_blocks(text.lstrip("\ufeff")):
        if block.text.lstrip().startswith("$CATEGORY:"):
            category_tag = _category_tag(block)
            if category_tag is None:
                builder.result.problems.append(Problem(
                    path, block.lines[0], "category has no name: the questions that follow get "
                                          "the file's tag", "warning"))
            rest = block.text.split("\n", 1)
            if len(rest) == 1:
                continue
            block = _Block(rest[1], block.lines[1:])
        _GiftQuestion(block, builder, category_tag).convert()
    builder.result.problems.sort(key=lambda p: p.line)
    return builder.result


# --- Aiken --------------------------------------------------------------------------------

_AIKEN_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*)$")
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*(.*)$")


@dataclass
class _AikenQuestion:
    line: int
    prompt: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)


def import_aiken(text: str, path: str, tag: str | None = None) -> ImportResult:
    """Convert a Moodle Aiken file: a question, options 'A.' or 'A)', 'ANSWER: X'."""
    builder = _Builder(path, tag)
    current: _AikenQuestion | None = None

    def missing_answer(question: _AikenQuestion) -> None:
        builder.error(question.line, "no 'ANSWER: X' line after the options: question skipped")

    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        option = _AIKEN_OPTION.match(line)
        answer = _AIKEN_ANSWER.match(line)
        if answer:
            if current is None:
                builder.error(number, "'ANSWER:' line without a question")
                continue
            _finish_aiken(current, answer.group(1).strip().upper(), number, builder)
            current = None
        elif option and current is not None:
            letter = option.group(1)
            if any(letter == known for known, _, _ in current.options):
                builder.error(number, f"option {letter} appears twice")
            current.options.append((letter, option.group(2).strip(), number))
        elif option:
            builder.error(number, "option outside a question")
        elif current is None:
            current = _AikenQuestion(number, [line])
        elif not current.options:
            current.prompt.append(line)
        else:
            missing_answer(current)
            current = _AikenQuestion(number, [line])
    if current is not None:
        missing_answer(current)
    builder.result.problems.sort(key=lambda p: p.line)
    return builder.result


def _finish_aiken(question: _AikenQuestion, letter: str, line: int, builder: _Builder) -> None:
    letters = [known for known, _, _ in question.options]
    if len(question.options) < 2:
        builder.error(question.line, "a question needs at least two options 'A.' and 'B.'")
        return
    if len(question.options) > 8:
        builder.error(question.line, f"a single choice question needs 2 to 8 options, not "
                                     f"{len(question.options)}")
        return
    if letter not in letters:
        builder.error(line, f"ANSWER '{letter}' is not one of the options "
                            f"{', '.join(letters)}")
        return
    if len(letters) != len(set(letters)):
        return  # the duplicate letter is already reported
    texts = [text for _, text, _ in question.options]
    if len(set(texts)) != len(texts):
        builder.error(question.line, "two options have the same text")
        return
    options = [{"text": text, "correct": True} if known == letter else {"text": text}
               for known, text, _ in question.options]
    prompt = "\n".join(question.prompt)
    builder.add(question.line, "", "single", prompt, {"options": options}, "", [])


def import_file(text: str, path: str, fmt: str, tag: str | None = None) -> ImportResult:
    """Convert ``text`` in format ``fmt`` ('gift' or 'aiken')."""
    if tag is not None and not TAG.match(tag):
        raise ValueError(f"tag '{tag}' must look like 'topic/subtopic' in lower case")
    return (import_gift if fmt == "gift" else import_aiken)(text, path, tag)
