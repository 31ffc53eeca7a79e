"""Keep in the committed notebooks exactly the outputs that nbval compares.

    python .ci/notebook_outputs.py strip   [NOTEBOOK ...]   # `make strip`
    python .ci/notebook_outputs.py refresh [NOTEBOOK ...]   # `make outputs`
    python .ci/notebook_outputs.py check   [NOTEBOOK ...]   # what tests/test_notebooks.py asserts

nbval compares a cell's output only when the cell is tagged `nbval-check-output` and its
committed execution_count is not None. So the committed state is: tagged cells keep their
outputs and execution counts, every other cell has neither (pictures and timings belong in
generated_images/, not in the diff). `strip` produces that state from any notebook; `refresh`
first executes the notebook (quick mode: tagged cells print nothing that depends on image
size or steps) and stores the tagged cells' new outputs. Default: every notebook in notebooks/.
"""

import argparse
import os
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
TAG = "nbval-check-output"


def is_compared(cell):
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def strip(notebook):
    """Clear every output nbval does not compare; return the notebook."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and not is_compared(cell):
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)  # timestamps written by Jupyter
    notebook.metadata = {key: notebook.metadata[key]
                         for key in ("kernelspec", "language_info") if key in notebook.metadata}
    notebook.metadata.get("language_info", {}).pop("version", None)
    return notebook


def refresh(path):
    """Execute `path` in quick mode and store the outputs of its compared cells."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    executed = nbformat.read(path, as_version=4)
    os.environ.update(NST_QUICK="1", NST_VGG19_WEIGHTS="quantized")
    NotebookClient(executed, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell, ran in zip(notebook.cells, executed.cells, strict=True):
        if is_compared(cell):
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    return strip(notebook)


def problems(notebook):
    """What keeps `notebook` from the committed state, one sentence per cell."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        stored = bool(cell.outputs) or cell.execution_count is not None
        if is_compared(cell) and (cell.execution_count is None or not cell.outputs):
            found.append(f"cell {index} is tagged {TAG} but has no stored output, so nbval "
                         "would skip it: run `make outputs`")
        elif stored and not is_compared(cell):
            found.append(f"cell {index} keeps an output nbval does not compare: run `make strip`")
        if any(output.get("output_type") == "error" for output in cell.outputs):
            found.append(f"cell {index} stores an error")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("strip", "refresh", "check"))
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    failed = False
    for path in paths:
        if args.action == "check":
            for problem in problems(nbformat.read(path, as_version=4)):
                print(f"{path}: {problem}")
                failed = True
            continue
        notebook = refresh(path) if args.action == "refresh" else strip(
            nbformat.read(path, as_version=4))
        nbformat.write(notebook, path)
        print(f"{path}: {sum(map(is_compared, notebook.cells))} compared cell(s) kept")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
