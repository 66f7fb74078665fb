"""Arrangement kinds: the learner pairs items (matching) or puts them in order (ordering)."""

from __future__ import annotations

import re

from learning.content.frontmatter import LocatedList
from learning.content.kinds.base import AnswerError, QuestionKind, form_value, option_key
from learning.content.problems import Problem
from learning.content.schema import Field, check

_POSITION = re.compile(r"[0-9]{1,4}")  # ASCII: str.isdigit() also accepts "²", which int() refuses


class Matching(QuestionKind):
    """Pair each left item with a right one; distractors are extra right items."""

    name, label = "matching", "Matching"
    schema = {"pairs": Field("mapping_list", non_empty=True),
              "distractors": Field("text_list", required=False)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        pairs_raw: LocatedList = values.get("pairs") or LocatedList()
        if not 2 <= len(pairs_raw) <= 8:
            problems.append(Problem(path, raw.key_lines.get("pairs", raw.line),
                                    f"question '{qid}' needs 2 to 8 pairs"))
        pairs = []
        for pair in pairs_raw:
            found = check(pair, {"left": Field("text"), "right": Field("text")}, path, problems)
            if "left" in found and "right" in found:
                pairs.append((str(found["left"]).strip(), str(found["right"]).strip()))
        lefts = [left for left, _ in pairs]
        rights = [right for _, right in pairs] + list(values.get("distractors", ()))
        if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
            problems.append(Problem(path, raw.key_lines.get("pairs", raw.line),
                                    f"question '{qid}' repeats a left or right item"))
            return None
        return {
            "pairs": tuple((option_key("l", qid, left), left, option_key("r", qid, right))
                           for left, right in pairs),
            "rights": tuple((option_key("r", qid, right), right) for right in rights),
        }

    @classmethod
    def view(cls, question, rng):
        lefts = [(key, text) for key, text, _ in question.spec["pairs"]]
        rights = list(question.spec["rights"])
        rng.shuffle(lefts)
        rng.shuffle(rights)
        return {"lefts": lefts, "rights": rights}

    @classmethod
    def parse_answer(cls, question, form):
        rights = {key for key, _ in question.spec["rights"]}
        answer = {}
        for left_key, _text, _right in question.spec["pairs"]:
            value = form_value(form, cls.field_name(question, left_key))
            if value is None:
                continue
            if value not in rights:
                raise AnswerError("That item is not part of this question.")
            answer[left_key] = value
        return answer or None

    @classmethod
    def grade(cls, question, answer):
        answer = answer or {}
        pairs = question.spec["pairs"]
        return sum(answer.get(left) == right for left, _t, right in pairs) / len(pairs)


class Ordering(QuestionKind):
    """Put 3 to 8 items in order; each item in its right place earns its share."""

    name, label = "ordering", "Ordering"
    schema = {"items": Field("text_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        items = [str(item).strip() for item in values.get("items", ())]
        if not 3 <= len(items) <= 8 or len(set(items)) != len(items):
            problems.append(Problem(path, raw.key_lines.get("items", raw.line),
                                    f"question '{qid}' needs 3 to 8 different items"))
            return None
        return {"items": tuple((option_key("i", qid, item), item) for item in items)}

    @classmethod
    def view(cls, question, rng):
        items = list(question.spec["items"])
        for _ in range(5):  # never show the items already in the right order
            rng.shuffle(items)
            if items != list(question.spec["items"]):
                break
        return {"items": items, "positions": list(range(1, len(items) + 1))}

    @classmethod
    def parse_answer(cls, question, form):
        positions = {}
        for key, _text in question.spec["items"]:
            value = form_value(form, cls.field_name(question, key))
            if value is None:
                continue
            if not _POSITION.fullmatch(value) or not 1 <= int(value) <= len(question.spec["items"]):
                raise AnswerError("Each position must be a number from the list.")
            positions[key] = int(value)
        if not positions:
            return None
        if len(set(positions.values())) != len(positions):
            raise AnswerError("Give each item a different position.")
        return [key for key, _ in sorted(positions.items(), key=lambda kv: kv[1])] \
            if len(positions) == len(question.spec["items"]) else \
            {key: pos for key, pos in positions.items()}

    @classmethod
    def grade(cls, question, answer):
        if not isinstance(answer, list):
            return 0.0
        expected = [key for key, _ in question.spec["items"]]
        return sum(a == b for a, b in zip(answer, expected, strict=False)) / len(expected)

