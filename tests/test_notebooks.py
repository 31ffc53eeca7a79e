"""The notebooks' shape: numbered, compared outputs only, a parameters cell, solutions marked,
checks, sources named; and proof that nbval compares the stored outputs."""

import importlib.util
import json
import math
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


def test_the_course_notebooks_exist_in_order():
    names = [path.stem for path in NOTEBOOKS]
    assert names == ["01_vgg19_transfer_learning", "02_content_cost",
                     "03_gram_matrix_and_style_cost", "04_optimization_loop",
                     "05_what_the_choices_do", "06_controlling_colour_place_and_scale",
                     "07_fast_style_transfer", "08_interactive_studio"]


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


@pytest.mark.slow  # nbval runs a notebook
def test_a_changed_stored_output_fails_the_notebook_test(tmp_path):
    """nbval really compares: one digit changed in a stored check line makes it fail."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    check = next(c for c in notebook.cells if "nst.check_count_conv_params" in c.source)
    assert "block1_conv1: 1792" in check.outputs[0]["text"]
    del notebook.cells[notebook.cells.index(check) + 1:]  # the rest cannot change the verdict
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
            "total_variation", "plateau_reached", "rgb_to_yiq", "yiq_to_rgb",
            "colour_mean_and_covariance", "symmetric_matrix_power", "match_color",
            "masked_style_target", "make_cost_and_gradient", "lbfgs", "instance_norm",
            "residual_block", "batch_perceptual_costs", "fast_train_step"} == exercises


# -- The student's view: no test machinery in their cells, the self-checks in place. --

def tags(cell):
    return cell["metadata"].get("tags", [])


def hidden(cell):
    return cell["metadata"].get("jupyter", {}).get("source_hidden", False)


def words(text):
    return len(re.findall(r"[A-Za-z][\w'-]*", text))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_cell_links_the_cheat_sheet(path):
    assert "(cheatsheet.md)" in source(cells(path)[0])
    assert (path.parent / "cheatsheet.md").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_claims_live_in_collapsed_claims_cells_only(path):
    for cell in cells(path, "code"):
        text = source(cell)
        machinery = re.search(r"^\s*assert\b", text, re.MULTILINE) or "nst.claim(" in text
        if "claims" in tags(cell):
            assert hidden(cell), f"a claims cell must be collapsed:\n{text[:80]}"
            assert "nst.claim(" in text, text[:80]
        else:
            assert not machinery, f"test machinery in a student's cell:\n{text[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_try_this_is_followed_by_what_to_expect_for_each_item(path):
    all_cells = cells(path)
    index = next(i for i, c in enumerate(all_cells) if source(c).startswith("### Try this"))
    items = re.findall(r"^- ", source(all_cells[index]), re.MULTILINE)
    expected = source(all_cells[index + 1])
    assert expected.startswith("<details><summary>What to expect</summary>")
    assert expected.rstrip().endswith("</details>")
    assert len(re.findall(r"^- ", expected, re.MULTILINE)) == len(items) > 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_check_your_understanding_asks_three_to_five_questions_before_the_summary(path):
    all_cells = cells(path)
    heading = next(i for i, c in enumerate(all_cells)
                   if source(c).startswith("## Check your understanding"))
    quiz = all_cells[heading + 1]
    assert quiz["cell_type"] == "code" and "quiz" in tags(quiz) and hidden(quiz)
    assert source(quiz).lstrip().startswith("nst.quiz(")
    assert 3 <= source(quiz).count("nst.Question(") <= 5
    # The widget says "Right." or "Not quite." itself: explanations do not start with one.
    assert not re.search(r'"(Right|Not quite|No|Yes|Wrong)[:.,] ', source(quiz))
    assert heading + 1 < len(all_cells) - 1  # the Summary stays last


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_stays_within_about_1500_words(path):
    assert sum(words(source(c)) for c in cells(path, "markdown")) <= 1650


def solution_expressions(code):
    """The expressions of a solution's lines: `return x` and `name = x` give x."""
    body = code.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
    for line in body.splitlines():
        line = line.split("#", 1)[0].strip()
        line = re.sub(r"^return\s+", "", line)
        line = re.sub(r"^[\w, ]+\s*[-+*/]?=\s*(?!=)", "", line)
        if len(line) >= 12:
            yield " ".join(line.split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_prompt_holds_a_line_of_its_solution(path):
    prompt = []
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            prompt.append(" ".join(source(cell).split()))
            continue
        if "### BEGIN SOLUTION" in source(cell):
            text = " ".join(prompt)
            for expression in solution_expressions(source(cell)):
                assert expression not in text, f"the prompt holds `{expression}`"
        prompt = []


def test_the_cheat_sheet_states_the_defaults_the_code_uses():
    sheet = (nst.REPO_ROOT / "notebooks" / "cheatsheet.md").read_text()
    schedule = nst.coarse_to_fine_schedule(nst.DEFAULT_SIZE, nst.DEFAULT_STEPS)
    facts = [f"`CONTENT_LAYER` | `{nst.CONTENT_LAYER}`",
             f"| {nst.DEFAULT_ALPHA:g}, {nst.DEFAULT_BETA:g}, {nst.DEFAULT_TV_WEIGHT:g} |",
             f"{nst.DEFAULT_SIZE} px, {nst.DEFAULT_STEPS} evaluations: "
             f"{schedule[0][1]} at {schedule[0][0]} px, then {schedule[1][1]} at "
             f"{schedule[1][0]} px",
             f"`COARSE_TO_FINE_ABOVE` = {nst.COARSE_TO_FINE_ABOVE} px",
             f"`DEFAULT_ALPHA` = {nst.DEFAULT_ALPHA:g}", f"`DEFAULT_BETA` = {nst.DEFAULT_BETA:g}",
             "ImageNet mean (" + ", ".join(f"{v:g}" for v in nst.VGG_MEAN_BGR) + ")",
             *(f'`"{choice}"`' for choice in nst.PRESERVE_COLOR_CHOICES)]
    assert {weight for _, weight in nst.STYLE_LAYERS} == {0.2} and "weight 0.2 each" in sheet
    for fact in facts:
        assert fact in sheet, fact
    for path in NOTEBOOKS:
        assert f"({path.name})" in sheet


def test_the_cheat_sheet_states_the_fast_networks_settings():
    sheet = (nst.REPO_ROOT / "notebooks" / "cheatsheet.md").read_text()
    exponent = round(math.log10(nst.INSTANCE_NORM_EPSILON))
    assert 10.0**exponent == pytest.approx(nst.INSTANCE_NORM_EPSILON)
    parameters = nst.transformation_network().count_params()
    train = importlib.util.spec_from_file_location(
        "train", nst.REPO_ROOT / "training" / "train.py")
    module = importlib.util.module_from_spec(train)
    train.loader.exec_module(module)
    defaults = module.build_argument_parser().parse_args(["--style", "painting.jpg"])
    rate = round(math.log10(defaults.learning_rate))
    assert 10.0**rate == pytest.approx(defaults.learning_rate)
    facts = [f"`FAST_WIDTHS` = {nst.FAST_WIDTHS}", f"{parameters:,} parameters",
             f"{nst.FAST_RESIDUAL_BLOCKS} residual blocks",
             f"`INSTANCE_NORM_EPSILON` = $10^{{{exponent}}}$",
             f"{defaults.size} px crops, batch {defaults.batch}, Adam at $10^{{{rate}}}$",
             f"α = {defaults.alpha:g}, β = {defaults.beta:g}"]
    for fact in facts:
        assert fact in sheet, fact


def test_the_cheat_sheet_receptive_fields_are_vgg19s():
    sheet = (nst.REPO_ROOT / "notebooks" / "cheatsheet.md").read_text()
    vgg = nst.load_vgg19(weights="random")  # receptive fields depend on the layers only
    fields = {name: field for name, _, _, field in nst.vgg19_layer_table(vgg, image_side=224)}
    for name, field in re.findall(r"(block\d_conv\d) (\d+)", sheet):
        assert fields[name] == int(field), name
