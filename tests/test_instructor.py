"""Instructor kit: student copies and the grader, on real and fabricated notebooks."""

import csv
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / "instructor"))
import student_copies  # noqa: E402

NOTEBOOKS = sorted((nst.REPO_ROOT / "notebooks").glob("*.ipynb"))
GRADER = nst.REPO_ROOT / "instructor" / "grade.py"


def test_stub_replaces_only_the_marked_lines_and_keeps_indentation():
    source = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n"
              "    return y\n    ### END SOLUTION\n\nprint(f)")
    assert student_copies.stub_source(source) == (
        "def f(x):\n    \"\"\"doc\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
        "\nprint(f)")
    with pytest.raises(ValueError, match="unbalanced"):
        student_copies.stub_source("### BEGIN SOLUTION\nx = 1\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_hides_every_solution_and_keeps_the_rest(path):
    reference = nbformat.read(path, as_version=4)
    copy = student_copies.student_copy(reference)
    assert len(copy.cells) == len(reference.cells)
    for original, stubbed in zip(reference.cells, copy.cells, strict=True):
        if "### BEGIN SOLUTION" in original.source:
            assert "### BEGIN SOLUTION" not in stubbed.source
            assert "# YOUR CODE HERE\n" in stubbed.source
            assert "raise NotImplementedError()" in stubbed.source
            solution = original.source.split("### BEGIN SOLUTION")[1].split("### END")[0]
            assert all(line.strip() not in stubbed.source
                       for line in solution.splitlines() if line.strip())
        else:
            assert stubbed.source == original.source
    assert student_copies.paste_solutions(copy, reference).cells == reference.cells


def test_make_student_writes_every_notebook(tmp_path):
    assert student_copies.main(["--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]


def execute(notebook, folder):
    client = NotebookClient(notebook, timeout=600, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def errors(notebook):
    return [(index, output["ename"]) for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" for output in cell.outputs
            if output.output_type == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_fails_at_the_first_exercise_and_no_check_passes(path, monkeypatch):
    monkeypatch.setenv("NST_QUICK", "1")
    reference = nbformat.read(path, as_version=4)
    executed = execute(student_copies.student_copy(reference), path.parent)
    first_check = next(i for i, cell in enumerate(executed.cells)
                       if cell.cell_type == "code" and "nst.check_" in cell.source
                       or "train_step(generated)" in cell.source)
    found = errors(executed)
    assert found and found[0] == (first_check, "NotImplementedError")
    for cell in executed.cells:
        if cell.cell_type == "code" and "nst.check_" in cell.source:
            assert not any("OK (" in output.get("text", "") for output in cell.outputs)


def submission(tmp_path, name, gram_solution="tf.matmul(A, A, transpose_b=True)", extra=""):
    """A small fabricated submission with two exercises and their checks."""
    setup = nbformat.read(NOTEBOOKS[0], as_version=4).cells[2].source
    cells = [
        new_markdown_cell("# A submission"),
        new_code_cell(setup),
        new_code_cell("def compute_content_cost(a_C, a_G):\n    _, n_H, n_W, n_C = a_G.shape\n"
                      "    return tf.reduce_sum(tf.square(a_C - a_G)) / (4 * n_H * n_W * n_C)"),
        new_code_cell("nst.check_compute_content_cost(compute_content_cost)"),
        new_code_cell(extra or "pass"),
        new_code_cell(f"def gram_matrix(A):\n    return {gram_solution}"),
        new_code_cell("nst.check_gram_matrix(gram_matrix)"),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def test_grader_grades_every_submission_whatever_the_others_do(tmp_path):
    submissions = [
        submission(tmp_path, "deletes_files", extra="import shutil\n"
                   "shutil.rmtree(ROOT / 'images')\n(ROOT / 'nst_helpers.py').unlink()"),
        submission(tmp_path, "correct"),
        submission(tmp_path, "partly_wrong", gram_solution="tf.matmul(A, A, transpose_a=True)"),
        submission(tmp_path, "crashes", extra="import os\nos.kill(os.getpid(), 9)"),
        submission(tmp_path, "hangs", extra="import time\ntime.sleep(600)"),
        submission(tmp_path, "unwritten", gram_solution="None\n    raise NotImplementedError()"),
    ]
    output = tmp_path / "out" / "grades.csv"
    completed = subprocess.run(
        [sys.executable, str(GRADER), *map(str, submissions), "--output", str(output),
         "--timeout", "40"], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    rows = {row["submission"].split("/")[-1]: row for row in csv.DictReader(output.open())}
    expected = {
        "deletes_files.ipynb": ("ok", "passed", "passed"),
        "correct.ipynb": ("ok", "passed", "passed"),
        "partly_wrong.ipynb": ("ok", "passed", "failed"),
        "crashes.ipynb": ("crashed", "passed", "error"),
        "hangs.ipynb": ("timeout", "passed", "error"),
        "unwritten.ipynb": ("ok", "passed", "failed"),
    }
    for name, (status, content, gram) in expected.items():
        row = rows[name]
        assert row["status"].startswith(status), row
        assert (row["compute_content_cost"], row["gram_matrix"]) == (content, gram), row
        assert row["total_cost"] == ""  # not in this notebook
    assert (nst.IMAGES_DIR / "content").is_dir()  # the deleting submission hurt only itself
    summary = output.with_suffix(".summary.txt").read_text()
    assert "6 submission(s); 4 ran to the end" in summary
    assert "gram_matrix: 2/6 passed, 2 failed, 2 error" in summary
