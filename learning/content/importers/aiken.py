"""Convert Moodle Aiken files: single choice questions with lettered options.

The format has no feedback, titles or categories, so every question gets the
file's tag and placeholder explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from learning.content.importers.bank import ImportResult, QuestionBuilder

_AIKEN_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*)$")
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*(.*)$")


@dataclass
class _AikenQuestion:
    """A question being read: its first line, prompt lines and (letter, text, line) options."""

    line: int
    prompt: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)


def import_aiken(text: str, path: str, tag: str | None = None) -> ImportResult:
    """Convert a Moodle Aiken file: a question, options 'A.' or 'A)', 'ANSWER: X'."""
    builder = QuestionBuilder(path, tag)
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


def _finish_aiken(question: _AikenQuestion, letter: str, line: int,
                  builder: QuestionBuilder) -> None:
    """Add the question whose 'ANSWER:' line names ``letter``, or record why not."""
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

