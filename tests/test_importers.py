"""Moodle GIFT and Aiken import: converted questions load with our own loader."""

from pathlib import Path

import pytest
import yaml

from learning.content.importers import detect_format, import_file
from learning.content.importers.aiken import import_aiken
from learning.content.importers.bank import (
    EXPLANATION_PLACEHOLDER,
    SOURCE_PLACEHOLDER,
    ImportResult,
)
from learning.content.importers.gift import import_gift
from learning.content.problems import Problem
from learning.content.quiz import QuizSet, load_quizzes
from tests.conftest import FIXTURES

IMPORT = FIXTURES / "import"
GIFT_PATH = "tests/fixtures/import/border-checks.gift"
AIKEN_PATH = "tests/fixtures/import/indicators.txt"


def gift() -> ImportResult:
    return import_gift((IMPORT / "border-checks.gift").read_text(encoding="utf-8"), GIFT_PATH)


def aiken() -> ImportResult:
    return import_aiken((IMPORT / "indicators.txt").read_text(encoding="utf-8"), AIKEN_PATH)


def load(result: ImportResult) -> QuizSet:
    """Feed the YAML through the real loader; it must find no errors."""
    problems: list[Problem] = []
    quizzes = load_quizzes([("quizzes/x/bank.yaml", result.to_yaml())], 80, problems)
    assert [p for p in problems if p.severity == "error"] == []
    assert len(quizzes.questions) == len(result.questions)
    return quizzes


def messages(result: ImportResult, severity: str = "error") -> list[str]:
    return [str(p) for p in result.problems if p.severity == severity]


def correct_texts(question) -> list[str]:
    return [c.text for c in question.spec["options"] if c.correct]


# --- GIFT fixture -------------------------------------------------------------------------


def test_gift_fixture_loads_with_every_kind():
    quizzes = load(gift())
    kinds = {q.id: q.kind for q in quizzes.questions}
    assert kinds == {
        "passport-held-by-companion": "single",
        "elements-of-the-definition": "multiple",
        "smuggling-ends-on-arrival": "true_false",
        "consent-of-a-victim-of-trafficking": "true_false",
        "palermo-city": "short_text",
        "notice-colours": "matching",
        "recovery-period": "numeric",
        "recovery-period-2": "numeric",
        "the-protocol-supplementing-the-un-convention": "single",
        "which-symbol-separates-answers-in-gift": "single",
        "escapes": "true_false",
    }


def test_gift_single_choice_keeps_feedback_and_general_feedback():
    question = load(gift()).by_id()["passport-held-by-companion"]
    assert question.prompt == (
        "At passport control, a man hands over the passport of the young\n"
        "woman travelling with him and answers every question put to her. What do you do?")
    assert correct_texts(question) == ["Refer both travellers for a second-line check"]
    feedback = {c.text: c.feedback for c in question.spec["options"]}
    assert feedback["Wave them through"] == ("One indicator does not prove trafficking, but it "
                                             "should not be ignored.")
    assert feedback["Arrest the man on the spot"] == "There is no evidence of an offence yet."
    assert question.explanation == ("A companion who holds the documents and answers for the "
                                    "traveller is a recognised indicator.")
    assert question.sources == (SOURCE_PLACEHOLDER,)


def test_gift_weights_make_a_multiple_response_question_with_a_warning():
    result = gift()
    question = load(result).by_id()["elements-of-the-definition"]
    assert correct_texts(question) == ["An act", "A means", "An exploitative purpose"]
    assert question.prompt == ("Which of these are **elements** of the adult trafficking "
                               "definition?")
    assert question.explanation == EXPLANATION_PLACEHOLDER
    warnings = messages(result, "warning")
    assert (f"{GIFT_PATH}:16: warning: answer weights %-100%, %33.33333% simplified: options "
            "with a positive weight are correct, the others wrong") in warnings
    assert (f"{GIFT_PATH}:16: warning: format marker [markdown] dropped: check that the text "
            "reads well as Markdown") in warnings


def test_gift_true_false_feedback_follows_moodle_order():
    by_id = load(gift()).by_id()
    smuggling = by_id["smuggling-ends-on-arrival"]
    assert smuggling.spec["answer"] is True
    # Moodle: {TRUE#shown for the wrong answer#shown for the right answer}
    assert smuggling.spec["feedback_false"] == ("Smuggling is a service for crossing a border; "
                                                "exploitation is not part of it.")
    assert smuggling.spec["feedback_true"] == "Right: the service ends at the border."
    assert by_id["consent-of-a-victim-of-trafficking"].spec["answer"] is False


def test_gift_short_text_matching_and_numeric():
    by_id = load(gift()).by_id()
    assert by_id["palermo-city"].spec["accept"] == ("Palermo", "Palermo, Italy")
    notices = by_id["notice-colours"]
    rights = dict(notices.spec["rights"])
    assert [(left, rights[right]) for _key, left, right in notices.spec["pairs"]] == [
        ("A missing child", "Yellow notice"), ("A wanted person", "Red notice"),
        ("A new concealment method", "Purple notice")]
    assert list(rights.values())[-1] == "Green notice"  # '= -> Green notice': a distractor
    assert by_id["recovery-period"].spec["answer"] == 30
    assert by_id["recovery-period"].spec["tolerance"] == 0
    # {#23..25}: the midpoint, with half the range as tolerance
    assert by_id["recovery-period-2"].spec["answer"] == 24
    assert by_id["recovery-period-2"].spec["tolerance"] == 1


def test_gift_missing_word_gets_a_blank():
    question = load(gift()).by_id()["the-protocol-supplementing-the-un-convention"]
    assert question.prompt == ("The Protocol supplementing the UN Convention against "
                               "Transnational Organized Crime was adopted in ____ in New York.")
    assert correct_texts(question) == ["2000"]


def test_gift_escapes_become_plain_characters():
    result = gift()
    by_id = load(result).by_id()
    html = by_id["which-symbol-separates-answers-in-gift"]
    assert html.prompt == ("<p>Which symbol separates answers in GIFT: ~ or =? Titles use :: "
                           "and feedback #.</p>")
    assert correct_texts(html) == ["Both { and } are braces"]
    assert by_id["escapes"].prompt == "Is a ratio of 1:2 the same as one half {50 per cent}?"
    assert (f"{GIFT_PATH}:48: warning: format marker [html] dropped: check that the text "
            "reads well as Markdown") in messages(result, "warning")


def test_gift_categories_become_tags():
    tags = {q["id"]: q["tags"] for q in gift().questions}
    assert tags["passport-held-by-companion"] == ["moodle/document-checks"]
    assert tags["notice-colours"] == ["moodle/document-checks"]
    assert tags["recovery-period"] == ["moodle/victim-protection"]
    assert tags["escapes"] == ["moodle/victim-protection"]


def test_gift_tag_option_replaces_category_tags():
    text = (IMPORT / "border-checks.gift").read_text(encoding="utf-8")
    result = import_gift(text, GIFT_PATH, tag="border/documents")
    assert {tuple(q["tags"]) for q in result.questions} == {("border/documents",)}


def test_gift_malformed_questions_are_reported_with_their_lines():
    assert messages(gift()) == [
        f"{GIFT_PATH}:52: unclosed '{{': the answer block has no '}}'",
        f"{GIFT_PATH}:54: essay questions (an empty answer block '{{}}') are not supported",
        f"{GIFT_PATH}:56: answer 'The Hague' does not start with '=' (right) or '~' (wrong)",
        f"{GIFT_PATH}:58: 'twenty' is not a number",
        f"{GIFT_PATH}:60: no answer block '{{...}}': description questions are not supported",
    ]


def test_gift_placeholders_are_warned_about_for_every_question():
    result = gift()
    warnings = messages(result, "warning")
    for question in result.questions:
        assert question["sources"] == [SOURCE_PLACEHOLDER]
        assert any(f"question '{question['id']}' needs its source" in w for w in warnings)
    without_feedback = [q for q in result.questions if q["explanation"] == EXPLANATION_PLACEHOLDER]
    assert len(without_feedback) == len(result.questions) - 1
    assert (f"{GIFT_PATH}:24: warning: question 'smuggling-ends-on-arrival' has no general "
            "feedback: fill in the placeholder explanation") in warnings


def test_yaml_output_is_readable_block_style():
    text = gift().to_yaml()
    assert text.startswith("questions:\n  - id: passport-held-by-companion\n    kind: single\n")
    assert "    prompt: |-\n      At passport control" in text
    assert "{" not in text.split("\n", 1)[0]
    data = yaml.safe_load(text)
    assert list(data["questions"][0]) == ["id", "kind", "tags", "prompt", "options",
                                          "explanation", "sources"]


# --- GIFT details -------------------------------------------------------------------------


def convert(text: str) -> ImportResult:
    return import_gift(text, "bank.gift")


def test_gift_default_tag_is_the_file_stem_and_ids_are_unique():
    result = import_gift("Is it?{T}\n\nIs it?{F}\n\n::Is it::Is it really?{T}\n",
                         "exports/Old Bank.gift")
    assert [q["id"] for q in result.questions] == ["is-it", "is-it-2", "is-it-3"]
    assert {q["tags"][0] for q in result.questions} == {"imported/old-bank"}
    load(result)


def test_gift_multi_line_question_with_comments_and_newline_escape():
    result = convert("// leading comment\n::Title::[plain]First line\\nsecond part\n"
                     "// a comment inside the question\n{\n  =Yes\n  ~No\n}\n")
    (question,) = result.questions
    assert question["prompt"] == "First line\nsecond part"
    assert question["options"] == [{"text": "Yes", "correct": True}, {"text": "No"}]
    assert not any("format marker" in m for m in messages(result, "warning"))
    load(result)


def test_gift_several_equals_become_multiple_with_a_warning():
    result = convert("Which are ports?{=Dover =Calais ~Paris}")
    (question,) = result.questions
    assert question["kind"] == "multiple"
    assert messages(result, "warning")[0] == (
        "bank.gift:1: warning: several correct answers: converted to a multiple-response "
        "question (learners must choose all of them)")
    load(result)


def test_gift_numeric_partial_answers_and_feedback_are_simplified():
    result = convert("When was the Protocol adopted?\n"
                     "{#\n=2000:0#Right.\n=%50%2000:2#Close.\n####Adopted in 2000.}")
    (question,) = result.questions
    assert (question["answer"], question["tolerance"]) == (2000, 0)
    assert question["explanation"] == "Adopted in 2000."
    assert messages(result, "warning")[:2] == [
        "bank.gift:1: warning: only the answer 2000 (±0) kept: partial-credit numeric answers "
        "are not supported",
        "bank.gift:1: warning: per-answer feedback dropped: numeric questions have none",
    ]
    assert load(result).questions[0].spec["answer"] == 2000


def test_gift_numeric_with_decimal_tolerance():
    result = convert("Speed?{#2.5:0.25}")
    assert (result.questions[0]["answer"], result.questions[0]["tolerance"]) == (2.5, 0.25)


def test_gift_short_text_weights_and_feedback():
    result = convert("Capital?{=Paris#Yes =%50%Lutetia ~%0%London}")
    # '~' makes it a choice question in Moodle too; short answers use '=' only
    assert result.questions[0]["kind"] == "multiple"
    result = convert("Capital?{=Paris#Yes =%50%Lutetia}")
    assert result.questions[0]["accept"] == ["Paris", "Lutetia"]
    assert [str(p) for p in result.warnings][:2] == [
        "bank.gift:1: warning: answer weights simplified: %50%; answers with a positive weight "
        "are accepted in full, the others dropped",
        "bank.gift:1: warning: per-answer feedback dropped: short-text questions have none",
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("Pick one\n{~A\n~B}", "bank.gift:1: no correct answer: mark the right answer with '=' or a "
                           "positive weight such as '~%50%'"),
    ("Value?\n{#30:-1}", "bank.gift:2: tolerance -1 must not be negative"),
    ("Range?{#a..3}", "bank.gift:1: 'a' is not a number"),
    ("Match\n{=a -> b\n=c d}", "bank.gift:3: matching answer 'c d' has no '->'"),
    ("Match{=a -> b}", "bank.gift:1: a matching question needs 2 to 8 pairs, not 1"),
    ("Only one{=A}x{=B}", "bank.gift:1: more than one answer block: embedded (cloze) answers "
                          "are not supported"),
    ("A stray } here{T}", "bank.gift:1: '}' outside an answer block (write '\\}' for a literal "
                          "brace)"),
    ("::Title::{=A ~B}", "bank.gift:1: the question has no text"),
    ("Twice{=A ~A}", "bank.gift:1: answer 'A' appears twice"),
])
def test_gift_errors(text, message):
    result = convert(text)
    assert result.questions == []
    assert messages(result) == [message]


def test_gift_category_on_the_same_block_and_with_slashes():
    result = convert("$CATEGORY: $course$/top/Legal // Policy\nIs it?{T}\n")
    assert result.questions[0]["tags"] == ["moodle/legal-policy"]


# --- Aiken --------------------------------------------------------------------------------


def test_aiken_fixture_converts_five_single_choice_questions():
    result = aiken()
    quizzes = load(result)
    assert [q.kind for q in quizzes.questions] == ["single"] * 5
    answers = {q.id: correct_texts(q) for q in quizzes.questions}
    assert answers == {
        "which-document-is-the-most-reliable": [
            "The original passport, checked against the holder"],
        "a-companion-insists-on-answering-every": [
            "Speak to the traveller alone, with an interpreter if needed"],
        "which-of-these-is-a-recognised": ["Debts to the recruiter that keep growing"],
        "which-body-runs-the-uk-national": ["The Home Office"],
        "which-international-body-publishes-the-global": ["UNODC"],
    }
    assert {q.tags for q in quizzes.questions} == {("imported/indicators",)}
    options = quizzes.by_id()["a-companion-insists-on-answering-every"].spec["options"]
    assert [c.text for c in options][0] == "Ignore it; many couples do this"  # 'A)' style


def test_aiken_malformed_questions_are_reported():
    assert messages(aiken()) == [
        f"{AIKEN_PATH}:19: no 'ANSWER: X' line after the options: question skipped",
        f"{AIKEN_PATH}:33: ANSWER 'E' is not one of the options A, B, C",
    ]


def test_aiken_other_errors():
    result = import_aiken("A. stray option\nANSWER: A\nOnly one option?\nA. Yes\nANSWER: A\n",
                          "bank.txt")
    assert messages(result) == [
        "bank.txt:1: option outside a question",
        "bank.txt:2: 'ANSWER:' line without a question",
        "bank.txt:3: a question needs at least two options 'A.' and 'B.'",
    ]


# --- format detection ---------------------------------------------------------------------


def test_detect_format():
    assert detect_format("anything", "bank.gift") == "gift"
    assert detect_format("Q?\nA. x\nB. y\nANSWER: A\n", "bank.txt") == "aiken"
    assert detect_format("::T::Q?{T}", "bank.txt") == "gift"
    assert detect_format("Q?{T}", "bank.txt") == "gift"
    assert detect_format("just text", "bank.txt") is None
    assert detect_format("::T::Q?{T}", "bank.xml") is None


def test_import_file_rejects_a_bad_tag():
    with pytest.raises(ValueError, match="must look like"):
        import_file("Q?{T}", "bank.gift", "gift", tag="Not A Tag")


# --- CLI ----------------------------------------------------------------------------------


def test_cli_writes_a_bank_and_reports_problems(runner, tmp_path: Path):
    out = tmp_path / "bank.yaml"
    result = runner.invoke(args=["quizzes", "import", str(IMPORT / "border-checks.gift"),
                                 "--out", str(out), "--tag", "border/documents"])
    assert result.exit_code == 0, result.output
    source = str(IMPORT / "border-checks.gift")
    assert f"{source}:52: unclosed '{{': the answer block has no '}}'" in result.stderr
    assert f"{source}:16: warning: answer weights" in result.stderr
    assert result.stdout.strip() == (f"Converted 11 questions; 5 lines could not be converted. "
                                     f"Wrote {out}.")
    problems: list[Problem] = []
    quizzes = load_quizzes([("quizzes/x/bank.yaml", out.read_text(encoding="utf-8"))], 80,
                           problems)
    assert not [p for p in problems if p.severity == "error"]
    assert {q.tags for q in quizzes.questions} == {("border/documents",)}


def test_cli_detects_aiken_and_writes_to_stdout(runner):
    result = runner.invoke(args=["quizzes", "import", str(IMPORT / "indicators.txt")])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert len(data["questions"]) == 5
    assert result.stderr.splitlines()[-1] == ("Converted 5 questions; 2 lines could not be "
                                              "converted.")


def test_cli_fails_when_nothing_converts_or_input_is_bad(runner, tmp_path: Path):
    essay = tmp_path / "essay.gift"
    essay.write_text("Describe your day.{}\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = runner.invoke(args=["quizzes", "import", str(essay), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{essay}:1: essay questions" in result.stderr
    assert "Converted 0 questions; 1 lines could not be converted." in result.stderr
    assert not out.exists()

    unknown = tmp_path / "notes.txt"
    unknown.write_text("Just some notes.\n", encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import", str(unknown)])
    assert result.exit_code == 1
    assert "pass --format gift or --format aiken" in result.stderr

    result = runner.invoke(args=["quizzes", "import", str(essay), "--tag", "Bad Tag"])
    assert result.exit_code == 2
    assert "Invalid value for '--tag'" in result.stderr
