"""The scenario kind: a case that its linked questions ask about; it earns no points itself."""

from __future__ import annotations

from learning.content.kinds.base import QuestionKind
from learning.content.schema import Field


class Scenario(QuestionKind):
    """A case with linked questions; the parts are graded, the scenario is not."""

    name, label = "scenario", "Scenario"
    schema = {"case": Field("text"), "questions": Field("mapping_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        if "case" not in values:
            return None
        return {"case": values["case"]}

