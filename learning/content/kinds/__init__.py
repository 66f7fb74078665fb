"""Question kinds: one small class per kind, and the registry that names them.

The loader validates ``kind:`` against ``QUESTION_KINDS``, so the registry is the
schema: a new kind is a class in one of these modules and a line here.
"""

from __future__ import annotations

from learning.content.kinds.arrange import Matching, Ordering
from learning.content.kinds.base import QuestionKind
from learning.content.kinds.choice import MultipleResponse, SingleChoice
from learning.content.kinds.scenario import Scenario
from learning.content.kinds.values import Numeric, ShortText, TrueFalse

QUESTION_KINDS: dict[str, type[QuestionKind]] = {
    kind.name: kind
    for kind in (SingleChoice, MultipleResponse, TrueFalse, Matching, Ordering, Numeric,
                 ShortText, Scenario)
}
