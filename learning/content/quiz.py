"""Question banks and assessments of one course, parsed from ``quizzes/<course>/*.yaml``."""

from __future__ import annotations

import random
from dataclasses import dataclass

from learning.content.frontmatter import LocatedDict, LocatedList, parse_yaml
from learning.content.jurisdictions import valid_for
from learning.content.problems import Problem
from learning.content.questions import TAG, Question, parse_question
from learning.content.schema import SLUG, Field, check
from learning.content.translations import split_name

REVIEW_POLICIES = ("score", "answers", "answers_after_last")
ASSESSMENT_SCHEMA = {
    "title": Field("text"),
    "final": Field("bool", required=False),
    "pass_mark": Field("int", required=False, minimum=0, maximum=100),
    "time_limit_minutes": Field("int", required=False, minimum=1, maximum=600, nullable=True),
    "max_attempts": Field("int", required=False, minimum=1, maximum=100, nullable=True),
    "cooldown_minutes": Field("int", required=False, minimum=0, maximum=60 * 24 * 30),
    "review": Field("text", required=False),
    "draw": Field("mapping_list", non_empty=True),
    "topics": Field("mapping", required=False),
}
TOPIC_SCHEMA = {"title": Field("text"), "lessons": Field("text_list", non_empty=True)}
DRAW_SCHEMA = {"tag": Field("text"), "count": Field("int", minimum=1, maximum=200)}
DRAW_SIMULATIONS = 25


@dataclass(frozen=True)
class Draw:
    """Draw ``count`` gradable questions tagged ``tag``."""

    tag: str
    count: int


@dataclass(frozen=True)
class Topic:
    """What a tag covers, in words an officer understands, and the lessons that teach it."""

    tag: str
    title: str
    lessons: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Assessment:
    """A final assessment or a knowledge check, and its rules."""

    slug: str
    path: str
    title: str
    final: bool
    pass_mark: int
    time_limit_minutes: int | None
    max_attempts: int | None
    cooldown_minutes: int
    review: str
    draw: tuple[Draw, ...]
    line: int = 1  # file line of the 'assessment:' mapping
    topics: tuple[Topic, ...] = ()  # feedback on weak topics after a failed attempt

    @property
    def question_count(self) -> int:
        return sum(rule.count for rule in self.draw)


@dataclass(frozen=True)
class QuizSet:
    """All questions (top level, scenarios holding their parts) and assessments of a course."""

    questions: tuple[Question, ...] = ()
    assessments: tuple[Assessment, ...] = ()

    def assessment(self, slug: str) -> Assessment | None:
        return next((a for a in self.assessments if a.slug == slug), None)

    def by_id(self) -> dict[str, Question]:
        """Every question by id, scenario parts included."""
        found = {}
        for question in self.questions:
            found[question.id] = question
            for part in question.parts:
                found[part.id] = part
        return found

    def draw(self, assessment: Assessment, rng: random.Random,
             jurisdiction: str | None = None) -> list[Question]:
        """Pick questions for one attempt: per rule, at random, never the same one twice,
        only general items and those valid for the officer's jurisdiction."""
        chosen: list[Question] = []
        taken: set[str] = set()
        for rule in assessment.draw:
            candidates = [q for q in self.questions if rule.tag in q.tags and q.id not in taken
                          and valid_for(q.jurisdictions, jurisdiction)]
            rng.shuffle(candidates)
            remaining = rule.count
            for question in candidates:
                weight = len(question.gradable())
                if weight <= remaining:
                    chosen.append(question)
                    taken.add(question.id)
                    remaining -= weight
                if remaining == 0:
                    break
        rng.shuffle(chosen)
        return chosen


def _parse_assessment(slug: str, path: str, raw: LocatedDict, default_pass_mark: int,
                      problems: list[Problem]) -> Assessment | None:
    before = len(problems)
    values = check(raw, ASSESSMENT_SCHEMA, path, problems)
    review = values.get("review", "answers_after_last")
    if review not in REVIEW_POLICIES:
        problems.append(Problem(path, raw.key_lines.get("review", raw.line),
                                f"'review' must be one of: {', '.join(REVIEW_POLICIES)}"))
    draws = []
    rules: LocatedList = values.get("draw") or LocatedList()
    for rule in rules:
        found = check(rule, DRAW_SCHEMA, path, problems)
        if "tag" in found and "count" in found:
            draws.append(Draw(found["tag"], found["count"]))
    topics = _parse_topics(values.get("topics"), path, problems)
    if len(problems) > before:
        return None
    return Assessment(
        slug=slug, path=path, title=values["title"].strip(), final=values.get("final", False),
        pass_mark=values.get("pass_mark", default_pass_mark),
        time_limit_minutes=values.get("time_limit_minutes"),
        max_attempts=values.get("max_attempts"),
        cooldown_minutes=values.get("cooldown_minutes", 0), review=review, draw=tuple(draws),
        line=raw.line, topics=topics,
    )


def _parse_topics(raw: LocatedDict | None, path: str,
                  problems: list[Problem]) -> tuple[Topic, ...]:
    """``topics:`` maps a question tag to a title and the lessons that teach it."""
    topics = []
    for tag, value in (raw or {}).items():
        line = raw.key_lines.get(tag, raw.line)
        if not TAG.match(tag):
            problems.append(Problem(path, line, f"topic '{tag}' must be a question tag such as "
                                                "'topic/subtopic'"))
            continue
        if not isinstance(value, LocatedDict):
            problems.append(Problem(path, line, f"topic '{tag}' must be a mapping with 'title' "
                                                "and 'lessons'"))
            continue
        found = check(value, TOPIC_SCHEMA, path, problems)
        if "title" in found and "lessons" in found:
            lessons = found["lessons"]
            topics.append(Topic(tag, found["title"].strip(), tuple(lessons), line))
    return tuple(topics)


def _check_draws(quizzes: QuizSet, problems: list[Problem], raw_lines: dict[str, int],
                 jurisdictions: tuple[str, ...] = ()) -> None:
    """Every assessment must always be able to draw its full set of questions, in general
    and for every jurisdiction the course declares."""
    for assessment in quizzes.assessments:
        for jurisdiction in (None, *jurisdictions):
            if not _check_draw(quizzes, assessment, raw_lines.get(assessment.slug, 1),
                               jurisdiction, problems):
                break


def _check_draw(quizzes: QuizSet, assessment: Assessment, line: int,
                jurisdiction: str | None, problems: list[Problem]) -> bool:
    """Simulate one assessment's draws for one jurisdiction; False after a problem."""
    where = f" for jurisdiction '{jurisdiction}'" if jurisdiction else ""
    for rule in assessment.draw:
        available = sum(len(q.gradable()) for q in quizzes.questions
                        if rule.tag in q.tags and valid_for(q.jurisdictions, jurisdiction))
        if available < rule.count:
            problems.append(Problem(assessment.path, line, f"draws {rule.count} questions "
                                    f"tagged '{rule.tag}' but the banks hold {available}{where}"))
            return False
    for seed in range(DRAW_SIMULATIONS):
        drawn = quizzes.draw(assessment, random.Random(seed), jurisdiction)
        count = sum(len(q.gradable()) for q in drawn)
        if count != assessment.question_count:
            problems.append(Problem(assessment.path, line, f"cannot always draw "
                                    f"{assessment.question_count} questions{where} (one draw "
                                    f"gave {count}): tags overlap or scenarios do not fit"))
            return False
    return True


def _check_unique_ids(raw: object, path: str, seen: dict[str, str],
                      problems: list[Problem]) -> None:
    """Question ids are unique within a course, scenario parts included (checked on the raw
    mappings, so a duplicate is reported even when the question has other problems)."""
    if not isinstance(raw, LocatedDict):
        return
    qid = raw.get("id")
    if isinstance(qid, str):
        line = raw.key_lines.get("id", raw.line)
        if qid in seen:
            problems.append(Problem(path, line, f"question id '{qid}' is already used in "
                                                f"{seen[qid]}"))
        else:
            seen[qid] = f"{path}:{line}"
    parts = raw.get("questions")
    if isinstance(parts, list):
        for part in parts:
            _check_unique_ids(part, path, seen, problems)


def load_quizzes(files: list[tuple[str, str]], default_pass_mark: int,
                 problems: list[Problem], jurisdictions: tuple[str, ...] = ()) -> QuizSet:
    """Parse every quiz file of a course; problems are appended, all at once."""
    questions: list[Question] = []
    assessments: list[Assessment] = []
    assessment_lines: dict[str, int] = {}
    seen: dict[str, str] = {}
    for path, text in sorted(files):
        name = path.rsplit("/", 1)[-1]
        if name == "README.md" or split_name(name):  # translations: content/translations.py
            continue
        if not name.endswith((".yaml", ".yml")):
            problems.append(Problem(path, 1, "unexpected file: quiz folders hold .yaml files",
                                    "warning"))
            continue
        slug = name.rsplit(".", 1)[0]
        data = parse_yaml(text, path, problems)
        if not isinstance(data, LocatedDict) or set(data) not in ({"questions"}, {"assessment"}):
            if data is not None or text.strip():
                problems.append(Problem(path, 1, "a quiz file holds either 'questions:' (a bank) "
                                                 "or 'assessment:' (an assessment)"))
            continue
        if "assessment" in data:
            if not SLUG.match(slug):
                problems.append(Problem(path, 1, f"assessment file name '{name}' must be "
                                                 "lower-case words joined by hyphens"))
                continue
            raw = data["assessment"]
            if not isinstance(raw, LocatedDict):
                problems.append(Problem(path, data.key_lines["assessment"],
                                        "'assessment' must be a mapping"))
                continue
            assessment = _parse_assessment(slug, path, raw, default_pass_mark, problems)
            if assessment is not None:
                assessments.append(assessment)
                assessment_lines[slug] = raw.line
            continue
        items = data["questions"]
        if not isinstance(items, LocatedList):
            problems.append(Problem(path, data.key_lines["questions"],
                                    "'questions' must be a list"))
            continue
        for item, line in zip(items, items.item_lines, strict=True):
            _check_unique_ids(item, path, seen, problems)
            question = parse_question(item, line, path, problems)
            if question is not None:
                questions.append(question)
    quizzes = QuizSet(tuple(questions), tuple(assessments))
    if not any(p.severity == "error" for p in problems):
        _check_draws(quizzes, problems, assessment_lines, jurisdictions)
    return quizzes
