"""Translated assessments: ``final.fr.yaml`` gives an assessment's words in another language.

Only words are translated: the title and the titles of its topics. Everything that
decides a result (draw, pass mark, limits, the topics' tags and lessons) stays in the
source file, so a translation can never change how an attempt is drawn or graded.

```yaml
translates: <sha256 of final.yaml>
assessment:
  title: "Évaluation finale : ..."
  topics:
    definition/elements: {title: "..."}
```
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from learning.content.frontmatter import LocatedDict, parse_yaml
from learning.content.problems import Problem
from learning.content.schema import Field, check, line_of

if TYPE_CHECKING:  # quiz.py imports translations, which imports this module
    from learning.content.quiz import Assessment

SCHEMA = {"title": Field("text"), "topics": Field("mapping", required=False)}
TOPIC_SCHEMA = {"title": Field("text")}


@dataclass(frozen=True)
class AssessmentTranslation:
    """An assessment's title and topic titles in another language."""

    slug: str
    language: str
    path: str
    title: str
    topic_titles: tuple[tuple[str, str], ...]  # (tag, title)
    translates: str
    stale: bool

    def apply(self, assessment: Assessment) -> Assessment:
        """The source assessment with these words; its rules untouched."""
        titles = dict(self.topic_titles)
        return replace(assessment, title=self.title,
                       topics=tuple(replace(t, title=titles.get(t.tag, t.title))
                                    for t in assessment.topics))


def is_assessment_translation(data: object) -> bool:
    """Whether parsed YAML is a translated assessment (rather than a translated bank)."""
    return isinstance(data, LocatedDict) and "assessment" in data


def load_assessment_translation(stem: str, lang: str, path: str, data: LocatedDict,
                                source_path: str, source: bytes, hashed: tuple[str, bool] | None,
                                problems: list[Problem]) -> AssessmentTranslation | None:
    """Check a translated assessment against its source: same topics, words only."""
    extra = sorted(set(data) - {"translates", "assessment"})
    if extra:
        problems.append(Problem(path, data.key_lines[extra[0]], "a translated assessment "
                                "holds only 'translates:' and 'assessment:' (title, topics)"))
    body = data["assessment"]
    if not isinstance(body, LocatedDict):
        problems.append(Problem(path, data.key_lines["assessment"],
                                "'assessment' must be a mapping"))
        return None
    values = check(body, SCHEMA, path, problems)  # rules (draw, pass_mark...) are unknown
    source_topics = _source_topics(source, source_path)
    titles: list[tuple[str, str]] = []
    topics = values.get("topics") or {}
    for tag, item in topics.items():
        line = topics.key_lines.get(tag, line_of(body, "topics"))
        if tag not in source_topics:
            problems.append(Problem(path, line, f"topic '{tag}' is not a topic of {source_path}"))
            continue
        if not isinstance(item, LocatedDict) or set(item) != {"title"}:
            problems.append(Problem(path, line, f"topic '{tag}' holds only its 'title'"))
            continue
        words = check(item, TOPIC_SCHEMA, path, problems).get("title")
        if words:
            titles.append((tag, str(words).strip()))
    for tag in sorted(source_topics - {tag for tag, _ in titles} - set(topics)):
        problems.append(Problem(path, line_of(body, "topics"), f"topic '{tag}' of the source "
                                "is not translated", "warning"))
    if hashed is None or "title" not in values:
        return None
    return AssessmentTranslation(stem, lang, path, str(values["title"]).strip(), tuple(titles),
                                 hashed[0], hashed[1])


def _source_topics(source: bytes, source_path: str) -> set[str]:
    """The topic tags of the source assessment (its own problems are reported elsewhere)."""
    data = parse_yaml(source.decode("utf-8", errors="replace"), source_path, [])
    body = data.get("assessment") if isinstance(data, dict) else None
    topics = body.get("topics") if isinstance(body, dict) else None
    return set(topics) if isinstance(topics, dict) else set()
