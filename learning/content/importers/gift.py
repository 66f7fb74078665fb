"""Convert Moodle GIFT files: blocks become questions, categories become tags.

Each question is parsed on its own, so one mistake skips one question, and every
problem names the source line where the trainer can fix it.
"""

from __future__ import annotations

import re

from learning.content.importers.bank import ImportResult, QuestionBuilder, clean_text, slugify
from learning.content.importers.gift_answers import convert_answers
from learning.content.importers.gift_syntax import Block, decode, gift_blocks
from learning.content.problems import Problem

BLANK = "____"
_FORMAT_MARKER = re.compile(r"^\s*\[(html|markdown|plain|moodle)\]", re.IGNORECASE)


class GiftQuestion:
    """Parses one GIFT block; collects errors (question skipped) and warnings (loss)."""

    def __init__(self, block: Block, builder: QuestionBuilder, category_tag: str | None) -> None:
        self.block = block
        self.builder = builder
        self.category_tag = category_tag
        self.line = block.lines[0]
        self.errors: list[tuple[int, str]] = []
        self.warnings: list[tuple[int, str]] = []
        self.markers: set[str] = set()

    def fail(self, offset_or_line: int, message: str, *, is_line: bool = False) -> None:
        """Record an error at an offset in the block (or at a source line): skip the question."""
        line = offset_or_line if is_line else self.block.line_at(offset_or_line)
        self.errors.append((line, message))

    def warn(self, message: str, line: int | None = None) -> None:
        """Record a loss in the conversion, at the question's first line unless told."""
        self.warnings.append((self.line if line is None else line, message))

    def strip_marker(self, text: str) -> str:
        """Drop a leading format marker such as '[html]', remembering which it was."""
        match = _FORMAT_MARKER.match(text)
        if match:
            self.markers.add(match.group(1).lower())
            return text[match.end():]
        return text

    def text(self, raw: str) -> str:
        """Encoded GIFT text as plain text: no format marker, no escapes, trimmed lines."""
        return clean_text(decode(self.strip_marker(raw)))

    def convert(self) -> None:
        """Add the question to the builder, or record why it was skipped."""
        text, start = self.block.text, 0
        title = ""
        title_match = re.match(r"\s*::(.*?)::", text, re.DOTALL)
        if title_match:
            title = clean_text(decode(title_match.group(1)))
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
        prompt = clean_text(decode(prompt))
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
        converted = convert_answers(self, body, body_offset)
        if self.markers - {"plain"}:
            names = ", ".join(f"[{m}]" for m in sorted(self.markers - {"plain"}))
            self.warn(f"format marker {names} dropped: check that the text reads well as "
                      "Markdown")
        if converted is not None and not self.errors:
            kind, fields = converted
            self.builder.add(self.line, title, kind, prompt, fields, general, self.warnings,
                             self.category_tag)
        return self.report()

    def report(self) -> None:
        """Hand the errors found to the builder."""
        for line, message in self.errors:
            self.builder.error(line, message)


def _category_tag(block: Block) -> str | None:
    """'$CATEGORY: $course$/top/Border checks' -> 'moodle/border-checks'."""
    value = decode(block.text.split("\n", 1)[0].split(":", 1)[1]).strip()
    parts = [p for p in re.split(r"(?<!/)/(?!/)", value) if p.strip()]
    slug = slugify(parts[-1].replace("//", "/")) if parts else ""
    return f"moodle/{slug}" if slug else None


def import_gift(text: str, path: str, tag: str | None = None) -> ImportResult:
    """Convert a Moodle GIFT file; ``tag`` (if given) replaces the category/file tag."""
    builder = QuestionBuilder(path, tag)
    category_tag: str | None = None
    for block in gift_blocks(text.lstrip("\ufeff")):
        if block.text.lstrip().startswith("$CATEGORY:"):
            category_tag = _category_tag(block)
            if category_tag is None:
                builder.result.problems.append(Problem(
                    path, block.lines[0], "category has no name: the questions that follow get "
                                          "the file's tag", "warning"))
            rest = block.text.split("\n", 1)
            if len(rest) == 1:
                continue
            block = Block(rest[1], block.lines[1:])
        GiftQuestion(block, builder, category_tag).convert()
    builder.result.problems.sort(key=lambda p: p.line)
    return builder.result

