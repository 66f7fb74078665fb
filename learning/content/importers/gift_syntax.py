"""GIFT's lexical layer: backslash escapes and the blank-line separated blocks.

Escaped characters become private-use placeholders while parsing, so that '\\=' is
never read as a marker; ``decode`` turns them back into text at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESCAPABLE = "~=#{}:\\n"
_PLACEHOLDER = {ch: chr(0xE000 + i) for i, ch in enumerate(_ESCAPABLE)}
_DECODE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _PLACEHOLDER.items()})


def encode(text: str) -> str:
    """Replace each escaped character ('\\=', '\\{'...) by its placeholder."""
    return re.sub(r"\\([~=#{}:\\n])", lambda m: _PLACEHOLDER[m.group(1)], text)


def decode(text: str) -> str:
    """Turn placeholders back into the characters they stand for."""
    return text.translate(_DECODE)


@dataclass
class Block:
    """One GIFT question (or category line): its encoded text and where each line began."""

    text: str
    lines: list[int]  # source line of each line of ``text``

    def line_at(self, offset: int) -> int:
        """The source line of the character at ``offset`` in ``text``."""
        return self.lines[min(self.text.count("\n", 0, offset), len(self.lines) - 1)]


def gift_blocks(text: str) -> list[Block]:
    """Split into blank-line separated blocks, dropping '//' comment lines."""
    blocks: list[Block] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        if not stripped:
            if current:
                blocks.append(Block("\n".join(t for _, t in current), [n for n, _ in current]))
                current = []
            continue
        current.append((number, encode(line.rstrip())))
    if current:
        blocks.append(Block("\n".join(t for _, t in current), [n for n, _ in current]))
    return blocks
