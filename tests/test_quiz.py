"""The "Check your understanding" questions: every option explains itself when picked."""

from types import SimpleNamespace

import nbformat
import pytest

import nst_helpers as nst

QUESTION = nst.Question(
    "Which image's pixels change?",
    answer=("G's", "Right: C and S only set the targets."),
    wrong=[("C's", "C is the photo: it sets the content target."),
           ("VGG19's weights", "They are frozen.")])


def radio_and_feedback(widget, number=0):
    _, radio, feedback = widget.children[number].children
    return radio, feedback


def test_picking_an_option_shows_its_own_explanation_and_verdict():
    radio, feedback = radio_and_feedback(nst.quiz([QUESTION]))
    assert radio.value is None and feedback.value == ""
    for index, (text, why, right) in enumerate(QUESTION.options()):
        radio.value = index
        assert radio.options[index][0] == text
        assert why.split(":")[0] in feedback.value
        assert (nst.QUIZ_RIGHT if right else nst.QUIZ_WRONG) in feedback.value


def test_the_order_is_fixed_by_the_text_and_holds_every_option_once():
    first, again = QUESTION.options(), QUESTION.options()
    assert first == again and sum(right for *_, right in first) == 1
    assert {text for text, *_ in first} == {"G's", "C's", "VGG19's weights"}


def test_the_right_answer_is_not_always_first():
    questions = [nst.Question(f"Question {i}?", answer=("yes", "."), wrong=[("no", "."),
                                                                            ("maybe", ".")])
                 for i in range(12)]
    assert len({[text for text, *_ in q.options()].index("yes") for q in questions}) > 1


def test_a_question_without_wrong_options_is_refused():
    with pytest.raises(ValueError, match="wrong options"):
        nst.quiz([nst.Question("Why?", answer=("a", "b"), wrong=[])])


def test_text_is_escaped_so_a_stray_angle_bracket_shows_as_written():
    question = nst.Question("Is 1 < 2?", answer=("yes", "1 < 2 <b>"), wrong=[("no", "x")])
    widget = nst.quiz([question])
    prompt = widget.children[0].children[0]
    assert "1 &lt; 2" in prompt.value


def test_without_a_kernel_the_quiz_is_html_with_every_option_and_its_explanation_folded():
    question = nst.Question("Is $G_{ij}$ < 2?", answer=("yes", "since $a$ is"),
                            wrong=[("no", "it is not")])
    bundle = nst.quiz([question])._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # Jupyter still draws it
    page = bundle["text/html"]
    options, answers = page.split("<details>")
    assert r"\(G_{ij}\) &lt; 2" in options and "$" not in page  # the site's inline maths
    for text, why, _ in question.options():
        assert f"<li>{text}</li>" in options and why.replace("$a$", r"\(a\)") in answers
        assert why not in options
    assert answers.count(nst.QUIZ_RIGHT) == 1 and answers.count(nst.QUIZ_WRONG) == 1


def course_quizzes():
    """{notebook: its questions}, from the cell tagged `quiz` of each notebook."""
    quizzes = {}
    for path in sorted((nst.REPO_ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "quiz" in cell.metadata.get("tags", []):
                questions = quizzes.setdefault(path.stem, [])
                exec(cell.source, {"nst": SimpleNamespace(Question=nst.Question,
                                                          quiz=questions.extend)})
    return quizzes


QUIZZES = course_quizzes()


@pytest.mark.parametrize("notebook", sorted(QUIZZES))
def test_the_right_answer_does_not_give_itself_away_by_its_length(notebook):
    """A student who always picks the longest option must not do well."""
    questions = QUIZZES[notebook]
    longest_wrong = [max(len(text) for text, _ in q.wrong) for q in questions]
    longest_right = [q.text for q, wrong in zip(questions, longest_wrong, strict=True)
                     if len(q.answer[0]) > wrong]
    assert len(longest_right) <= 2, longest_right
    for question, wrong in zip(questions, longest_wrong, strict=True):
        assert len(question.answer[0]) <= 1.25 * wrong, question.text
