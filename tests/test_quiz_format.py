"""Quiz files with deliberate errors: every problem with its path:line."""

from learning.content import load_catalogue
from tests.test_content_loader import GOOD_COURSE, GOOD_LESSON, write

BANK = """questions:
  - id: ok-question
    kind: single
    tags: [topic/one]
    prompt: Fine?
    options:
      - {text: "Yes", correct: true}
      - {text: "Not sure"}
    explanation: Because.
    sources: ["S, 2026."]
  - id: Bad_Id
    kind: single
    tags: [Topic One]
    prompt: Two right answers?
    options:
      - {text: A, correct: true}
      - {text: B, correct: true}
    explanation: x
    sources: ["S"]
  - id: no-kind
    kind: essay
    prompt: x
  - id: missing-bits
    kind: multiple
    tags: [topic/one]
    prompt: x
    options: [{text: A}, {text: no}]
    sources: []
  - id: ok-question
    kind: true_false
    tags: [topic/one]
    prompt: Duplicate id.
    answer: maybe
    explanation: x
    sources: ["S"]
  - id: numbers
    kind: numeric
    tags: [topic/two]
    prompt: How many?
    answer: ten
    tolerance: -1
    explanation: x
    sources: ["S"]
  - id: order
    kind: ordering
    tags: [topic/two]
    prompt: Order.
    items: [A, B]
    explanation: x
    sources: ["S"]
  - id: nested
    kind: scenario
    tags: [topic/case]
    case: A case.
    questions:
      - id: inner
        kind: scenario
        tags: [topic/case]
        case: No nesting.
        questions: []
"""
FINAL = """assessment:
  title: Final
  final: true
  review: sometimes
  time_limit_minutes: 0
  draw:
    - {tag: topic/one, count: 5}
    - {tag: topic/nothing}
"""


def problems_of(tmp_path, files):
    write(tmp_path, {"courses/c/course.md": GOOD_COURSE, "courses/c/intro.md": GOOD_LESSON,
                     **files})
    return [str(p) for p in load_catalogue(tmp_path / "courses", tmp_path / "quizzes").problems]


def test_bank_errors_have_lines(tmp_path):
    found = problems_of(tmp_path, {"quizzes/c/bank.yaml": BANK})
    path = "quizzes/c/bank.yaml"
    expected = [
        f"{path}:11: question id 'Bad_Id' must be lower-case words joined by hyphens",
        f"{path}:13: tag 'Topic One' must look like 'topic/subtopic' in lower case",
        f"{path}:15: question 'Bad_Id' (single) must have exactly one correct option, not 2",
        f"{path}:21: unknown question kind 'essay' (use one of: single, multiple, true_false, "
        "matching, ordering, numeric, short_text, scenario)",
        f"{path}:23: missing required key 'explanation'",
        f"{path}:28: 'sources' must list at least one item",
        f"{path}:33: 'answer' must be true or false",
        f"{path}:29: question id 'ok-question' is already used in quizzes/c/bank.yaml:2",
        f"{path}:40: 'answer' must be a number, not 'ten'",
        f"{path}:27: 'text' must be text: put it in quotes, as YAML reads yes, no, on and off "
        "as true or false",
        f"{path}:48: question 'order' needs 3 to 8 different items",
        f"{path}:56: a scenario cannot contain another scenario",
    ]
    missing = [m for m in expected if m not in found]
    assert not missing, "missing:\n" + "\n".join(missing) + "\nfound:\n" + "\n".join(found)


def test_assessment_errors_have_lines(tmp_path):
    found = problems_of(tmp_path, {"quizzes/c/final.yaml": FINAL,
                                   "quizzes/c/notes.txt": "x",
                                   "quizzes/c/broken.yaml": "questions: [\n"})
    assert "quizzes/c/final.yaml:4: 'review' must be one of: score, answers, " \
           "answers_after_last" in found
    assert "quizzes/c/final.yaml:5: 'time_limit_minutes' must be at least 1" in found
    assert "quizzes/c/final.yaml:8: missing required key 'count'" in found
    assert "quizzes/c/notes.txt:1: warning: unexpected file: quiz folders hold .yaml files" \
        in found
    assert any(m.startswith("quizzes/c/broken.yaml:2: YAML syntax error") for m in found)


def test_draw_must_be_satisfiable(tmp_path):
    bank = BANK.split("  - id: Bad_Id")[0]
    final = "assessment:\n  title: F\n  final: true\n  draw:\n    - {tag: topic/one, count: 3}\n"
    found = problems_of(tmp_path, {"quizzes/c/bank.yaml": bank, "quizzes/c/final.yaml": final})
    assert found == ["quizzes/c/final.yaml:2: draws 3 questions tagged 'topic/one' but the "
                     "banks hold 1"]


def test_lesson_check_must_name_a_knowledge_check(tmp_path):
    lesson = GOOD_LESSON.replace("title: Intro", "title: Intro\ncheck: nowhere")
    found = problems_of(tmp_path, {"courses/c/intro.md": lesson})
    assert "courses/c/intro.md:1: 'check: nowhere' must name a knowledge check in " \
           "quizzes/c/ (not a final one)" in found
