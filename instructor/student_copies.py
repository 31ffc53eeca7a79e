"""Write student copies of the course notebooks: every solution replaced by a stub.

    python instructor/student_copies.py [--output build/student] [NOTEBOOK ...]

In the committed notebooks each exercise holds its solution between `### BEGIN SOLUTION`
and `### END SOLUTION`. The copy keeps everything else and replaces those lines with
`# YOUR CODE HERE` and `raise NotImplementedError()`, indented like the solution; outputs
and execution counts are cleared. The copy's metadata names the notebook it came from, so
that instructor/grade.py can rebuild a submission from the right reference. `make student`
runs it.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
COURSE_METADATA = "nst_course"  # notebook metadata key: {"notebook": "<stem of the reference>"}
SOLUTION = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$",
                      re.MULTILINE | re.DOTALL)


def stub_source(source):
    """Replace each marked solution in a cell's source by an indented stub."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in:\n{source}")
    return SOLUTION.sub(
        lambda match: f"{match[1]}# YOUR CODE HERE\n{match[1]}raise NotImplementedError()",
        source,
    )


def student_copy(notebook, name):
    """A copy of `notebook` (nbformat) with solutions stubbed and outputs cleared.

    name: the stem of the course notebook, recorded in the copy's metadata.
    """
    copy = nbformat.from_dict(notebook)
    copy.metadata[COURSE_METADATA] = {"notebook": name}
    for cell in copy.cells:
        if cell.cell_type != "code":
            continue
        cell.source = stub_source(cell.source)
        cell.outputs, cell.execution_count = [], None
    return copy


def paste_solutions(student, reference):
    """The inverse, for checking: the student copy with the reference's exercise cells."""
    pasted = nbformat.from_dict(student)
    for cell, original in zip(pasted.cells, reference.cells, strict=True):
        if BEGIN in original.get("source", ""):
            cell.source = original.source
    return pasted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to copy (default: notebooks/*.ipynb)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "build" / "student",
                        help="folder for the copies (default build/student)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    args.output.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        copy = student_copy(notebook, path.stem)
        exercises = sum(BEGIN in cell.source for cell in notebook.cells)
        nbformat.write(copy, args.output / path.name)
        print(f"{args.output / path.name}: {exercises} exercise(s) stubbed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
