"""Instructor kit: student copies and the grader, on real student copies of the notebooks."""

import ast
import csv
import re
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / "instructor"))
import grade  # noqa: E402
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
    copy = student_copies.student_copy(reference, path.stem)
    assert copy.metadata["nst_course"] == {"notebook": path.stem}  # the grader's reference
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
    pasted = student_copies.paste_solutions(copy, reference)  # outputs stay cleared
    assert [c.source for c in pasted.cells] == [c.source for c in reference.cells]


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


# The notebooks with an exercise (notebook 08's is plateau_reached).
WITH_EXERCISES = [path for path in NOTEBOOKS if "### BEGIN SOLUTION" in path.read_text()]


@pytest.mark.slow  # kernels
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_copy_fails_at_the_first_exercise_and_no_check_passes(path, monkeypatch):
    monkeypatch.setenv("NST_QUICK", "1")
    reference = nbformat.read(path, as_version=4)
    copy = student_copies.student_copy(reference, path.stem)
    last_check = max(i for i, cell in enumerate(copy.cells) if "nst.check_" in cell.source)
    del copy.cells[last_check + 1:]  # what follows the last check cannot change a verdict
    executed = execute(copy, path.parent)
    first_check = next(i for i, cell in enumerate(executed.cells)
                       if cell.cell_type == "code" and "nst.check_" in cell.source
                       or "train_step(generated)" in cell.source)
    found = errors(executed)
    assert found and found[0] == (first_check, "NotImplementedError")
    for cell in executed.cells:
        if cell.cell_type == "code" and "nst.check_" in cell.source:
            assert not any("OK (" in output.get("text", "") for output in cell.outputs)


# ---------------------------------------------------------------------------------------
# The grader rebuilds each submission from its reference: the static look, without running
# ---------------------------------------------------------------------------------------

STYLE_NOTEBOOK = nst.REPO_ROOT / "notebooks" / "03_gram_matrix_and_style_cost.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"  # inside a top-level def


def student_copy_of(path=STYLE_NOTEBOOK):
    return student_copies.student_copy(nbformat.read(path, as_version=4), path.stem)


def exercise_cell(notebook, name):
    return next(cell for cell in notebook.cells if f"def {name}(" in cell.source)


def reference_solution(name, path=STYLE_NOTEBOOK):
    """The lines between the markers in the committed notebook, dedented."""
    source = exercise_cell(nbformat.read(path, as_version=4), name).source
    between = source.split("### BEGIN SOLUTION\n")[1].split("### END SOLUTION")[0]
    return textwrap.dedent(between.rsplit("\n", 1)[0])


def write_solutions(notebook, solutions):
    """Fill the stubs of a student copy: {exercise: body, dedented}."""
    for name, body in solutions.items():
        cell = exercise_cell(notebook, name)
        cell.source = cell.source.replace(STUB, textwrap.indent(body.strip("\n"), "    "))
    return notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_reference_solutions_pass_the_static_look_and_rebuild_unchanged(path):
    reference = nbformat.read(path, as_version=4)
    rebuilt, refused = grade.rebuild(reference, reference)
    assert refused == {}
    assert [c.source for c in rebuilt.cells] == [c.source for c in reference.cells]
    assert all(not c.get("outputs") for c in rebuilt.cells)  # nothing stored is graded


def test_rebuild_keeps_the_solutions_and_nothing_else():
    copy = student_copy_of()
    write_solutions(copy, {"gram_matrix": "return tf.matmul(A, A, transpose_b=True)   "})
    cell = exercise_cell(copy, "gram_matrix")
    cell.source = cell.source.replace("def gram_matrix(A):", "def gram_matrix(A):  ")
    check = copy.cells.index(cell) + 1
    copy.cells[check].source = "nst.check_gram_matrix(nst.gram_matrix)"
    copy.cells.insert(check, new_code_cell("nst.check_gram_matrix = print"))
    copy.cells[0].source = "# anything"
    rebuilt, refused = grade.rebuild(copy, nbformat.read(STYLE_NOTEBOOK, as_version=4))
    expected = student_copy_of()  # trailing spaces are forgiven, edits elsewhere are not kept
    write_solutions(expected, {"gram_matrix": "return tf.matmul(A, A, transpose_b=True)"})
    assert refused == {}
    assert [c.source for c in rebuilt.cells] == [c.source for c in expected.cells]


GRAM_SOLUTION = "return tf.matmul(A, A, transpose_b=True)"


@pytest.mark.parametrize("body, reasons", [
    ("return nst.gram_matrix(A)", ["calls nst.gram_matrix, the reference it should implement"]),
    ("g = nst.gram_matrix\nreturn g(A)",
     ["calls nst.gram_matrix, the reference it should implement"]),
    ("from nst_helpers import gram_matrix as g\nreturn g(A)",
     ["imports nst_helpers, the course's reference code",
      "calls nst.gram_matrix, the reference it should implement"]),
    ("import nst_helpers\nreturn nst_helpers.unroll(A)",
     ["imports nst_helpers, the course's reference code"]),
    ('return getattr(nst, "gram_" + "matrix")(A)',
     ["uses getattr to reach outside the exercise",
      "uses the module nst itself, not one of its functions"]),
    ("return nst.style_target(A)", ["calls nst.style_target, which does the work of gram_matrix"]),
    ("return nst._run_check(A)", ["uses nst._run_check, a private part of the course's code"]),
    ('import sys\nreturn sys.modules["nst_helpers"].unroll(A)',
     ["uses sys.modules to reach outside the exercise"]),
    ('return globals()["nst"].unroll(A)', ["uses globals to reach outside the exercise"]),
    ("import importlib\nreturn A", ["imports importlib to reach outside the exercise"]),
    ('return eval("A")', ["uses eval to reach outside the exercise"]),
    ("return gram_matrix.__globals__", ["uses gram_matrix.__globals__ to reach outside the "
                                        "exercise"]),
    ("import sys\nreturn sys._getframe(1).f_locals['expected']",
     ["uses sys._getframe(1).f_locals to reach outside the exercise",
      "uses sys._getframe to reach outside the exercise"]),
    ("import sys\nsys.setprofile(None)  # blinds the checks' guard\nreturn nst.unroll(A)",
     ["uses sys.setprofile to reach outside the exercise"]),
    ("np.allclose = lambda *a, **k: True\n" + GRAM_SOLUTION,
     ["changes np.allclose, which lies outside the exercise"]),
    ("global nst\n" + GRAM_SOLUTION, ["declares nst global"]),
    (GRAM_SOLUTION, []),
    ("import numpy as np\nB = nst.unroll(tf.reshape(A, [1, 1, -1, A.shape[0]]))\n"
     "return tf.matmul(B, B, transpose_b=True)", []),  # other helpers are allowed
])
def test_static_look_names_every_way_around_the_exercise(body, reasons):
    source = "def gram_matrix(A):\n" + textwrap.indent(body, "    ")
    assert grade.forbidden_uses(ast.parse(source), "gram_matrix") == reasons


@pytest.mark.parametrize("edit, reason", [
    (lambda s: s.replace("def gram_matrix(A):", "def gram_matrix(A, B=None):"),
     "the lines around the solution were changed: only the part between them may be edited"),
    (lambda s: s + "\nnst.check_gram_matrix = lambda f: print('gram_matrix: OK')",
     "adds code outside gram_matrix: only its body is graded"),
    (lambda s: s + "\n    return (", "does not parse: '(' was never closed (line 3)"),
    (lambda s: s.replace("def gram_matrix(A):", "def my_gram_matrix(A):"),
     "no cell defines gram_matrix"),
])
def test_a_solution_that_breaks_its_cell_is_refused_and_stubbed(edit, reason):
    copy = write_solutions(student_copy_of(), {"gram_matrix": GRAM_SOLUTION})
    cell = exercise_cell(copy, "gram_matrix")
    cell.source = edit(cell.source)
    rebuilt, refused = grade.rebuild(copy, nbformat.read(STYLE_NOTEBOOK, as_version=4))
    assert refused == {"gram_matrix": [reason]}
    assert exercise_cell(rebuilt, "gram_matrix").source == \
        exercise_cell(student_copy_of(), "gram_matrix").source  # nothing of it runs


@pytest.mark.parametrize("outputs, expected", [
    ([{"output_type": "stream", "text": "gram_matrix: OK"}], ("passed", "")),
    ([{"output_type": "error", "ename": "AssertionError", "evalue": "wrong. Hint: A A^T\nmore"}],
     ("failed", "wrong. Hint: A A^T")),
    ([{"output_type": "error", "ename": "_ReferenceUsed", "evalue": "f calls nst.f"}],
     ("failed", "f calls nst.f")),  # the checks' guard: an AssertionError of its own
    ([{"output_type": "error", "ename": "NotImplementedError", "evalue": ""}],
     ("failed", "NotImplementedError")),
    ([{"output_type": "error", "ename": "NameError", "evalue": "name 'f' is not defined"}],
     ("error", "NameError: name 'f' is not defined")),
])
def test_a_check_cell_outcome_and_its_note(outputs, expected):
    assert grade.outcome(outputs) == expected


@pytest.mark.parametrize("arguments, message", [
    ([], "name at least one submitted notebook"),
    (["gone.ipynb"], "no such file: gone.ipynb"),
    ([str(STYLE_NOTEBOOK), "--jobs", "0"], "--jobs must be 1 or more"),
])
def test_the_grader_refuses_bad_arguments_in_one_line(arguments, message, capsys):
    with pytest.raises(SystemExit):
        grade.main(arguments)
    assert capsys.readouterr().err.strip().endswith(message)


def test_the_reference_is_found_by_metadata_then_by_file_name(tmp_path):
    copy = student_copy_of()
    assert grade.reference_for(tmp_path / "anything.ipynb", copy) == STYLE_NOTEBOOK
    del copy.metadata["nst_course"]
    assert grade.reference_for(tmp_path / f"ada_{STYLE_NOTEBOOK.name}", copy) == STYLE_NOTEBOOK
    with pytest.raises(ValueError, match="cannot tell which course notebook this is"):
        grade.reference_for(tmp_path / "homework.ipynb", copy)


# ---------------------------------------------------------------------------------------
# The grader end to end: student copies of notebook 03 with honest solutions and cheats,
# graded in one run, two at a time
# ---------------------------------------------------------------------------------------

REFERENCE = "the reference solution"
EXERCISES = ["gram_matrix", "compute_layer_style_cost", "compute_style_cost"]
LAYER_COST = """
_, n_H, n_W, n_C = a_G.shape
S, G = tf.reshape(a_S, [-1, n_C]), tf.reshape(a_G, [-1, n_C])
difference = tf.matmul(S, S, transpose_a=True) - tf.matmul(G, G, transpose_a=True)
return tf.reduce_sum(tf.square(difference)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)
"""  # honest and standalone: right whatever happened to gram_matrix
LAYER_COST_WITHOUT_THE_4 = LAYER_COST.replace("4.0 * ", "")
STYLE_COST = "def layer_cost(a_S, a_G):\n" + textwrap.indent(LAYER_COST, "    ") + """
return tf.add_n([weight * layer_cost(style_activations[name], generated_activations[name])
                 for name, weight in style_layers])
"""  # honest and standalone too
DELETES_FILES = """
import shutil
assert nst.REPO_ROOT.name.startswith("nst-grade-"), "nst_helpers imported from outside the sandbox"
shutil.rmtree(nst.IMAGES_DIR, ignore_errors=True)
(nst.REPO_ROOT / "nst_helpers.py").unlink(missing_ok=True)
"""  # the assert keeps a grader that lost its sandbox from deleting the repository's images
FORGES_A_REPORT_AND_CRASHES = """
import os
with open(f"/proc/{os.getppid()}/fd/1", "w") as reports:  # where the grader's child reports
    reports.write('{"compute_style_cost": ["passed", ""]}\\n')
os.kill(os.getpid(), 9)
"""


def replace_cell(old, new):
    def edit(notebook):
        next(cell for cell in notebook.cells if cell.source == old).source = new
    return edit


def insert_before(start, source):
    def edit(notebook):
        index = next(i for i, cell in enumerate(notebook.cells) if cell.source.startswith(start))
        notebook.cells.insert(index, new_code_cell(source))
    return edit


def edit_exercise(name, change):
    def edit(notebook):
        cell = exercise_cell(notebook, name)
        cell.source = change(cell.source)
    return edit


def drop_exercise(name):
    return lambda notebook: notebook.cells.remove(exercise_cell(notebook, name))


def drop_check(name):
    def edit(notebook):
        notebook.cells.remove(next(cell for cell in notebook.cells
                                   if cell.source.startswith(f"nst.check_{name}(")))
    return edit


def forget_course(notebook):
    del notebook.metadata["nst_course"]


UNWRITTEN = ", or a function of yours that it calls, is not written yet..."

# file name: ({exercise: solution}, [edits], (status, gram_matrix, compute_layer_style_cost,
# compute_style_cost), notes). A status or note ending in "..." is a prefix: the rest is the
# check's own wording.
CASES = {
    "honest.ipynb": (dict.fromkeys(EXERCISES, REFERENCE), [],
                     ("ok", "passed", "passed", "passed"), []),
    "unwritten.ipynb": ({}, [], ("ok", "failed", "failed", "failed"), [
        f"gram_matrix: gram_matrix{UNWRITTEN}",
        f"compute_layer_style_cost: compute_layer_style_cost{UNWRITTEN}",
        f"compute_style_cost: compute_style_cost{UNWRITTEN}",
    ]),
    "edits_checks_and_cells.ipynb": (
        {"compute_layer_style_cost": LAYER_COST_WITHOUT_THE_4,
         "compute_style_cost": "return nst.compute_style_cost(style_activations, "
                               "generated_activations, style_layers)"},
        [replace_cell("nst.check_gram_matrix(gram_matrix)",
                      "nst.check_gram_matrix(nst.gram_matrix)"),
         insert_before("nst.check_compute_layer_style_cost(",
                       "nst.check_compute_layer_style_cost = lambda f: print('OK')")],
        ("ok", "failed", "failed", "failed"), [
            "compute_style_cost: calls nst.compute_style_cost, the reference it should "
            "implement",
            f"gram_matrix: gram_matrix{UNWRITTEN}",
            "compute_layer_style_cost: compute_layer_style_cost is wrong...",
        ]),
    "calls_references_and_deletes_files.ipynb": (
        {"gram_matrix": "return nst.gram_matrix(A)",
         "compute_layer_style_cost": "return nst.layer_style_cost_from_target("
                                     "nst.style_target(a_S), a_G)",
         "compute_style_cost": DELETES_FILES + STYLE_COST}, [],
        ("ok", "failed", "failed", "passed"), [
            "gram_matrix: calls nst.gram_matrix, the reference it should implement",
            "compute_layer_style_cost: calls nst.layer_style_cost_from_target, which does the "
            "work of compute_layer_style_cost, calls nst.style_target, which does the work of "
            "compute_layer_style_cost",
        ]),
    "aliases_and_patches.ipynb": (
        {"gram_matrix": "g = nst.gram_matrix\nreturn g(A)",
         "compute_layer_style_cost": LAYER_COST,
         "compute_style_cost": "np.allclose = lambda *args, **kwargs: True\n"
                               "return tf.constant(0.0)"}, [],
        ("ok", "failed", "passed", "failed"), [
            "gram_matrix: calls nst.gram_matrix, the reference it should implement",
            "compute_style_cost: changes np.allclose, which lies outside the exercise",
        ]),
    "aliases_deletes_a_check_and_patches.ipynb": (
        {"gram_matrix": "g = nst.gram_matrix\nreturn g(A)",
         "compute_layer_style_cost": LAYER_COST_WITHOUT_THE_4,
         "compute_style_cost": "return tf.constant(0.0)"},
        [drop_check("compute_layer_style_cost"),
         insert_before("nst.check_compute_style_cost(",
                       "import nst_checks\nnst_checks._compare = lambda *args, **kwargs: None")],
        ("ok", "failed", "failed", "failed"), [
            "gram_matrix: calls nst.gram_matrix, the reference it should implement",
            "compute_layer_style_cost: compute_layer_style_cost is wrong...",
            "compute_style_cost: ...",
        ]),
    "imports_and_crashes.ipynb": (
        {"gram_matrix": "from nst_helpers import gram_matrix as g\nreturn g(A)",
         "compute_layer_style_cost": 'import sys\nreturn sys.modules["nst_helpers"]'
                                     ".compute_layer_style_cost(a_S, a_G)",
         "compute_style_cost": FORGES_A_REPORT_AND_CRASHES}, [],
        ("crashed...", "failed", "failed", "error"), [
            "gram_matrix: imports nst_helpers, the course's reference code, calls "
            "nst.gram_matrix, the reference it should implement",
            "compute_layer_style_cost: calls nst.compute_layer_style_cost, the reference it "
            "should implement, uses sys.modules to reach outside the exercise",
        ]),
    "getattr_and_broken_cells.ipynb": (
        {"gram_matrix": 'return getattr(nst, "gram_" + "matrix")(A)',
         "compute_layer_style_cost": LAYER_COST, "compute_style_cost": "return ("},
        [edit_exercise("compute_layer_style_cost",
                       lambda s: s.replace("(a_S, a_G):", "(a_S, a_G, scale=1.0):"))],
        ("ok", "failed", "failed", "failed"), [
            "gram_matrix: uses getattr to reach outside the exercise, uses the module nst "
            "itself, not one of its functions",
            "compute_layer_style_cost: the lines around the solution were changed: only the "
            "part between them may be edited",
            "compute_style_cost: does not parse: '(' was never closed (line 2)",
        ]),
    f"ada_{STYLE_NOTEBOOK.name}": (  # no metadata: the file name tells the notebook
        {"gram_matrix": GRAM_SOLUTION, "compute_style_cost": STYLE_COST},
        [forget_course, drop_exercise("compute_layer_style_cost"),
         edit_exercise("gram_matrix", lambda s: s + "\nnst.check_gram_matrix = print")],
        ("ok", "failed", "failed", "passed"), [
            "gram_matrix: adds code outside gram_matrix: only its body is graded",
            "compute_layer_style_cost: no cell defines compute_layer_style_cost",
        ]),
    "hangs.ipynb": (
        {"gram_matrix": REFERENCE, "compute_style_cost": REFERENCE,
         "compute_layer_style_cost": "import time\ntime.sleep(600)\n" + LAYER_COST}, [],
        ("timeout after 60 s", "passed", "error", "error"), []),
    "reaches_the_reference_at_run_time.ipynb": (  # past the static look: the checks' guard
        {"gram_matrix": 'import pydoc\nreturn pydoc.locate("nst_helpers.gram_" + "matrix")(A)',
         "compute_layer_style_cost": LAYER_COST, "compute_style_cost": STYLE_COST}, [],
        ("ok", "failed", "passed", "passed"),
        ["gram_matrix: gram_matrix calls nst.gram_matrix..."]),
    "homework.ipynb": ({}, [forget_course], (
        "error: cannot tell which course notebook this is: no nst_course metadata and no "
        "course notebook name (such as 02_content_cost) in the file name", "", "", ""), []),
}
NOT_A_NOTEBOOK = "broken.ipynb"


def write_submission(folder, name, handed_out=None):
    """Write the case `name` as a learner would hand it in: the copy handed out (by default
    make student's) with its solutions filled in and its edits made."""
    solutions, edits, _, _ = CASES[name]
    notebook = write_solutions(handed_out or student_copy_of(), {
        exercise: reference_solution(exercise) if body == REFERENCE else body
        for exercise, body in solutions.items()})
    for edit in edits:
        edit(notebook)
    nbformat.write(notebook, folder / name)
    return folder / name


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    """(rows by file name, CSV header, summary) of one grader run over every case."""
    folder = tmp_path_factory.mktemp("submissions")
    paths = [write_submission(folder, name) for name in CASES]
    (folder / NOT_A_NOTEBOOK).write_text("{")
    output = folder / "out" / "grades.csv"
    completed = subprocess.run(
        [sys.executable, str(GRADER), *map(str, paths), str(folder / NOT_A_NOTEBOOK),
         "--output", str(output), "--timeout", "60", "--jobs", "2"],
        capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stderr
    with output.open() as file:
        reader = csv.DictReader(file)
        rows = {row["submission"].split("/")[-1]: row for row in reader}
    return rows, reader.fieldnames, output.with_suffix(".summary.txt").read_text()


def matches(value, expected):
    if expected.endswith("..."):
        return value.startswith(expected[:-3])
    return value == expected


@pytest.mark.slow  # kernels
@pytest.mark.parametrize("name", CASES)
def test_grader_gives_each_solution_what_it_deserves(grades, name):
    rows, _, _ = grades
    row = rows[name]
    (status, *verdicts), expected_notes = CASES[name][2], CASES[name][3]
    assert matches(row["status"], status), row
    assert [row[exercise] for exercise in EXERCISES] == verdicts, row
    assert row["compute_content_cost"] == "", row  # not in this notebook
    pattern = "; ".join(re.escape(note[:-3]) + ".*" if note.endswith("...") else re.escape(note)
                        for note in expected_notes)
    assert re.fullmatch(pattern, row["notes"]), (expected_notes, row["notes"])


@pytest.mark.slow  # kernels
def test_grader_reports_an_unreadable_notebook_and_sums_up(grades):
    rows, header, summary = grades
    assert header == ["submission", "status", "seconds", *grade.course_checks(), "notes"]
    assert rows[NOT_A_NOTEBOOK]["status"].startswith("error: ")
    assert (nst.IMAGES_DIR / "content").is_dir()  # the deleting submission hurt only itself
    assert (nst.REPO_ROOT / "nst_helpers.py").is_file()
    expected = [CASES[name][2] for name in CASES]
    ran = sum(row[0] == "ok" for row in expected)
    assert f"{len(expected) + 1} submission(s); {ran} ran to the end\n" in summary
    gram = [row[1] for row in expected if row[1]]
    assert (f"gram_matrix: {gram.count('passed')}/{len(gram)} passed, "
            f"{gram.count('failed')} failed, {gram.count('error')} error") in summary


def test_every_exercise_is_followed_by_a_check_named_after_it():
    """So that every exercise has a column in the grades."""
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for index, cell in enumerate(cells):
            if "### BEGIN SOLUTION" in cell.source:
                name = grade.exercise_name(cell.source)
                assert cells[index + 1].source.strip() == f"nst.check_{name}({name})", path.stem


def test_a_graded_notebooks_sandbox_holds_every_course_module():
    """A module left out of the sandbox would be imported from the repository, with the
    repository's folders (a submission's file deletions would reach them)."""
    import tomllib

    setup = tomllib.loads((nst.REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert grade.COURSE_MODULES == set(setup["py-modules"])
