"""The website's sources (make book): what book/build.py stages, without building the site.
The build itself, and every page in a browser, are CI's `make book QUICK=1` and
`make browser-book`."""

import importlib.util
import json
import re

import pytest
import yaml

import nst_helpers as nst

REPO = nst.REPO_ROOT


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("book_build", REPO / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_of_contents_holds_every_notebook_and_the_cheat_sheet_in_order():
    toc = yaml.safe_load((REPO / "book" / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    notebooks = [f"notebooks/{path.stem}" for path in sorted(REPO.glob("notebooks/*.ipynb"))]
    assert files == [*notebooks, "notebooks/cheatsheet"]


def test_every_part_of_the_readme_the_landing_page_includes_is_marked_once():
    readme = (REPO / "README.md").read_text()
    landing = (REPO / "book" / "index.md").read_text()
    markers = re.findall(r":(?:start-after|end-before): (.+)", landing)
    assert len(markers) == 6
    for marker in markers:
        assert readme.count(marker) == 1, marker


def test_claims_and_quiz_code_are_removed_and_solutions_folded_and_nothing_else(build):
    notebook = json.loads((REPO / "notebooks" / "08_interactive_studio.ipynb").read_text())
    tags = [list(cell.get("metadata", {}).get("tags", [])) for cell in notebook["cells"]]
    solutions = [build.SOLUTION in "".join(cell["source"]) for cell in notebook["cells"]]
    staged = build.tagged_for_the_site(notebook)
    for before, solution, cell in zip(tags, solutions, staged["cells"], strict=True):
        added = ("remove-cell" if "claims" in before else "remove-input" if "quiz" in before
                 else "hide-input" if solution else None)
        assert cell["metadata"]["tags"] == before + ([added] if added else [])
    assert any("claims" in cell_tags for cell_tags in tags) and any(solutions)
    assert any("quiz" in cell_tags for cell_tags in tags)


def test_each_mode_and_each_version_of_the_modules_has_its_own_cache(build, monkeypatch):
    quick, student = build.course_fingerprint(True), build.course_fingerprint(False)
    assert quick.startswith("quick-") and student.startswith("student-")
    assert quick[len("quick-"):] == student[len("student-"):]
    monkeypatch.setenv("NST_VGG19_WEIGHTS", "random")  # another network, other pictures
    assert build.course_fingerprint(True) != quick
