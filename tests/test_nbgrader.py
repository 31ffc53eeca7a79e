"""make nbgrader: the course as an nbgrader course, and nbgrader's whole flow
(generate_assignment of every notebook; autograde, generate_feedback and export of notebook
03) on submissions that test_instructor.py's grader cases describe: nbgrader must give every
check the verdict make grade gives it."""

import csv
import json
import os
import subprocess
import sys

import nbformat
import pytest

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / "instructor"))
import grade  # noqa: E402
import nbgrader_course  # noqa: E402
import student_copies  # noqa: E402
from test_instructor import CASES, EXERCISES, STYLE_NOTEBOOK, write_submission  # noqa: E402

NOTEBOOKS = sorted((nst.REPO_ROOT / "notebooks").glob("*.ipynb"))
NBGRADER_BIN = nst.REPO_ROOT / ".venv-nbgrader" / "bin"
ASSIGNMENT = STYLE_NOTEBOOK.stem
# student: the grader case handed in; every kind of cheat the rebuild must defeat is in one
# of them: a call of the reference, an alias, an edited check, an added cell replacing a
# check, a deleted check, a cell that patches the checks' comparison.
STUDENTS = {"ada": "honest.ipynb", "bob": "edits_checks_and_cells.ipynb",
            "cy": "aliases_deletes_a_check_and_patches.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_its_nbgrader_role(path):
    notebook = nbformat.read(path, as_version=4)
    source = nbgrader_course.nbgrader_source(notebook, path.stem)
    roles = [cell.metadata["nbgrader"] for cell in source.cells]
    solutions = [r["grade_id"] for r in roles if r["solution"]]
    checks = [r["grade_id"] for r in roles if r["grade"]]
    assert solutions == [grade.exercise_name(cell.source) for cell in notebook.cells
                         if student_copies.BEGIN in cell.source]
    assert checks == [f"check_{name}" for name in solutions]
    assert all(r["locked"] and r["points"] == nbgrader_course.POINTS
               for r in roles if r["grade"])
    assert all(r["locked"] != r["solution"] for r in roles)  # the rest is read-only
    assert len({r["grade_id"] for r in roles}) == len(roles)
    assert source.metadata["nst_course"] == {"notebook": path.stem}  # make grade reads it too
    assert [c.source for c in source.cells] == [c.source for c in notebook.cells]


def test_files_already_there_are_kept_unless_overwrite_is_given(tmp_path, capsys):
    assert nbgrader_course.main([str(tmp_path), str(STYLE_NOTEBOOK)]) == 0
    config = tmp_path / "nbgrader_config.py"
    config.write_text("# the instructor's own\n")
    assert nbgrader_course.main([str(tmp_path), str(STYLE_NOTEBOOK)]) == 0
    assert f"kept {config}: it exists (--overwrite replaces it)" in capsys.readouterr().out
    assert config.read_text() == "# the instructor's own\n"
    assert nbgrader_course.main([str(tmp_path), str(STYLE_NOTEBOOK), "--overwrite"]) == 0
    assert "RebuildFromSource" in config.read_text()


def test_a_missing_notebook_or_a_file_as_destination_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        nbgrader_course.main([str(tmp_path), str(tmp_path / "nope.ipynb")])
    assert "no such notebook" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        nbgrader_course.main([str(tmp_path / "file"), str(STYLE_NOTEBOOK)])
    assert "is a file, not a folder" in capsys.readouterr().err
    assert not (tmp_path / "file" / "source").exists()


# --- nbgrader's flow, run by nbgrader itself (make nbgrader's venv) -------------------------

def nbgrader(course, *arguments):
    if not (NBGRADER_BIN / "nbgrader").exists():
        pytest.fail("nbgrader is not installed: `make nbgrader DEST=...` installs it")
    # nbgrader runs alembic by name; each notebook in quick mode, as make grade's
    env = {**os.environ, "NST_QUICK": "1",
           "PATH": f"{NBGRADER_BIN}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run([str(NBGRADER_BIN / "nbgrader"), *arguments], cwd=course,
                               env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout + completed.stderr


SCORES = """
import json
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db", "neural-style-transfer") as gradebook:
    print(json.dumps({student: {grade.name: grade.score for grade in
                                gradebook.find_submission_notebook(
                                    "{assignment}", "{assignment}", student).grades}
                      for student in {students}}))
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder after nbgrader's whole flow: (folder, {student: {grade_id: score}})."""
    folder = tmp_path_factory.mktemp("nbgrader-course")
    assert nbgrader_course.main([str(folder)]) == 0
    nbgrader(folder, "generate_assignment", "*")  # every notebook
    release = folder / "release" / ASSIGNMENT / STYLE_NOTEBOOK.name
    for student, case in STUDENTS.items():
        submitted = folder / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        handed_out = nbformat.read(release, as_version=4)
        write_submission(submitted, case, handed_out).rename(submitted / STYLE_NOTEBOOK.name)
    nbgrader(folder, "autograde", ASSIGNMENT)
    nbgrader(folder, "generate_feedback", ASSIGNMENT)
    nbgrader(folder, "export")
    script = SCORES.replace("{assignment}", ASSIGNMENT).replace("{students}",
                                                                 repr(list(STUDENTS)))
    scores = subprocess.run([str(NBGRADER_BIN / "python"), "-c", script], cwd=folder,
                            capture_output=True, text=True, check=True)
    return folder, json.loads(scores.stdout)


@pytest.mark.slow  # nbgrader runs three notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbgrader_hands_out_the_same_cells_as_make_student(course, path):
    folder, _ = course
    release = nbformat.read(folder / "release" / path.stem / path.name, 4)
    copy = student_copies.student_copy(nbformat.read(path, 4), path.stem)
    assert [c.source for c in release.cells] == [c.source for c in copy.cells]
    assert release.metadata["nst_course"] == {"notebook": path.stem}  # make grade reads it


@pytest.mark.slow
@pytest.mark.parametrize("student", STUDENTS)
def test_nbgrader_scores_each_check_as_make_grade_does(course, student):
    _, scores = course
    make_grade_verdicts = CASES[STUDENTS[student]][2][1:]
    assert scores[student] == {
        f"check_{exercise}": (nbgrader_course.POINTS if verdict == "passed" else 0)
        for exercise, verdict in zip(EXERCISES, make_grade_verdicts, strict=True)}


@pytest.mark.slow
def test_what_nbgrader_ran_is_the_source_with_only_the_solutions(course):
    folder, _ = course
    source = nbformat.read(folder / "source" / ASSIGNMENT / STYLE_NOTEBOOK.name, 4)
    ran = nbformat.read(folder / "autograded" / "cy" / ASSIGNMENT / STYLE_NOTEBOOK.name, 4)
    assert len(ran.cells) == len(source.cells)  # the patching cell is gone, the check back
    assert not any("nst_checks._compare" in cell.source for cell in ran.cells)
    assert sum(c.source.startswith("nst.check_compute_layer_style_cost(") for c in ran.cells)


@pytest.mark.slow
def test_the_feedback_shows_the_checks_hint_and_why_a_solution_was_refused(course):
    folder, _ = course
    feedback = (folder / "feedback" / "cy" / ASSIGNMENT /
                STYLE_NOTEBOOK.with_suffix(".html").name).read_text()
    assert ("The grader ran the stub instead of this solution: calls nst.gram_matrix, the "
            "reference it should implement") in feedback
    assert "compute_layer_style_cost is wrong" in feedback  # the check's hint line


@pytest.mark.slow
def test_export_writes_each_students_total(course):
    folder, _ = course
    with (folder / "grades.csv").open() as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)
                if row["assignment"] == ASSIGNMENT}
    assert float(rows["ada"]["score"]) == float(rows["ada"]["max_score"]) == \
        len(EXERCISES) * nbgrader_course.POINTS
    assert float(rows["bob"]["score"]) == float(rows["cy"]["score"]) == 0
