"""The notebooks' shape: numbered, no outputs, a parameters cell, solutions marked, checks."""

import json
import re

import pytest

import nst_helpers as nst

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
def test_committed_without_outputs(path):
    for cell in cells(path, "code"):
        assert cell["outputs"] == [] and cell["execution_count"] is None, source(cell)[:60]


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
        assert f"nst.check_{name}({name})" in following or name == "train_step"


def test_the_five_seed_exercises_are_present():
    exercises = set()
    for path in NOTEBOOKS:
        for cell in cells(path, "code"):
            if "### BEGIN SOLUTION" in source(cell):
                exercises.add(re.search(r"def (\w+)\(", source(cell)).group(1))
    assert {"compute_content_cost", "gram_matrix", "compute_layer_style_cost",
            "compute_style_cost", "total_cost"} <= exercises
