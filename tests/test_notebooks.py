"""The notebooks' shape: numbered, compared outputs only, a parameters cell, solutions marked,
checks, sources named; and proof that nbval compares the stored outputs."""

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / ".ci"))
import notebook_outputs  # noqa: E402

TAG = notebook_outputs.TAG

NOTEBOOKS = sorted((nst.REPO_ROOT / "notebooks").glob("*.ipynb"))


def cells(path, kind=None):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if kind is None or c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def test_the_four_course_notebooks_exist():
    names = [path.stem for path in NOTEBOOKS]
    assert names[:4] == ["01_vgg19_transfer_learning", "02_content_cost",
                         "03_gram_matrix_and_style_cost", "04_optimization_loop"]
    assert all(re.match(r"\d\d_", name) for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_with_exactly_the_outputs_nbval_compares(path):
    assert notebook_outputs.problems(nbformat.read(path, as_version=4)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_and_known_answer_is_compared(path):
    for cell in cells(path, "code"):
        if "nst.check_" in source(cell):
            assert TAG in cell["metadata"].get("tags", []), source(cell)[:60]
    assert sum(TAG in c["metadata"].get("tags", []) for c in cells(path, "code")) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_is_imports_only_and_sources_are_named(path):
    setup = source(cells(path, "code")[0])
    assert "sys.path" not in setup and setup.startswith("import nst_helpers as nst")
    text = "\n".join(source(c) for c in cells(path))
    assert "### Try this" in text and "### Further reading" in text
    # Students have no "seed" documents: sources are cited by name.
    assert not re.search(r"\bthe seeds\b|\bseeds'|\bseed \d{3}|\bone of the seeds", text)


def test_a_changed_stored_output_fails_the_notebook_test(tmp_path):
    """nbval really compares: one digit changed in a stored check line makes it fail."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    check = next(c for c in notebook.cells if "nst.check_count_conv_params" in c.source)
    assert "block1_conv1: 1792" in check.outputs[0]["text"]
    copy = tmp_path / NOTEBOOKS[0].name
    nbformat.write(notebook, copy)
    check.outputs[0]["text"] = check.outputs[0]["text"].replace("1792", "1793")
    changed = tmp_path / f"changed_{NOTEBOOKS[0].name}"
    nbformat.write(notebook, changed)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-sanitize-with",
         str(nst.REPO_ROOT / ".ci" / "nbval_sanitize.cfg"), "-p", "no:cacheprovider",
         str(copy), str(changed)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "NST_QUICK": "1"})
    report = completed.stdout
    assert completed.returncode == 1, report[-3000:]
    assert "Cell outputs differ" in report and "1793" in report
    assert re.search(r"1 failed, \d+ passed", report)  # only the changed copy's cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_follows_the_house_anatomy(path):
    all_cells = cells(path)
    assert source(all_cells[0]).startswith("# ") and "What you will learn" in source(all_cells[0])
    tagged = [c for c in cells(path, "code") if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "nst.pick(" in source(tagged[0])
    assert "## Summary" in source(all_cells[-1])
    code = "\n".join(source(c) for c in cells(path, "code"))
    assert not re.search(r"\bif\b.*(is_quick_mode|NST_QUICK)", code)  # no branch on CI


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_is_marked_and_followed_by_its_check(path):
    code_cells = cells(path, "code")
    for index, cell in enumerate(code_cells):
        text = source(cell)
        if "### BEGIN SOLUTION" not in text:
            continue
        assert text.count("### BEGIN SOLUTION") == text.count("### END SOLUTION") == 1
        name = re.search(r"def (\w+)\(", text).group(1)
        following = source(code_cells[index + 1])
        assert f"nst.check_{name}({name})" in following


def test_the_course_exercises_are_present():
    exercises = set()
    for path in NOTEBOOKS:
        for cell in cells(path, "code"):
            if "### BEGIN SOLUTION" in source(cell):
                exercises.add(re.search(r"def (\w+)\(", source(cell)).group(1))
    assert {"count_conv_params", "compute_content_cost", "gram_matrix",
            "compute_layer_style_cost", "compute_style_cost", "total_cost", "train_step",
            "total_variation"} <= exercises
