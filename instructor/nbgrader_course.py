"""Write an nbgrader course from the course notebooks.

    make nbgrader DEST=folder
    # or: .venv-nbgrader/bin/python instructor/nbgrader_course.py folder [--overwrite]
    #                                                              [NOTEBOOK ...]

The folder gets nbgrader's configuration (`nbgrader_config.py`) and one assignment per
notebook, `source/<notebook>/<notebook>.ipynb`, whose cells carry nbgrader's metadata: each
exercise is a solution cell (its `### BEGIN SOLUTION` markers are nbgrader's own), the
check after it a locked autograded cell worth POINTS, every other cell locked (read-only).
The configuration grades as instructor/grade.py does: a submission is rebuilt from its
source notebook with only its solutions pasted in (nbgrader_plugin.py), so an added, edited
or deleted cell counts for nothing. Files already in the folder are kept unless
--overwrite is given: an instructor may have edited them.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat
from grade import exercise_name
from student_copies import BEGIN, COURSE_METADATA

REPO_ROOT = Path(__file__).resolve().parents[1]
POINTS = 1  # per check; an instructor edits the source notebook's metadata to change them
CHECK_CELL = re.compile(r"nst\.check_(\w+)\(\1\)")
SCHEMA_VERSION = 3  # nbgrader 0.9's cell metadata
CONFIG = '''\
"""nbgrader's settings for the neural style transfer course (written by `make nbgrader`)."""

import os
import sys

# The course's grader, from the repository this course was written from.
sys.path.insert(0, {instructor!r})

from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec)
from nbgrader_plugin import RebuildFromSource, course_jupyter_data  # noqa: E402

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "neural-style-transfer"
# Graded as the course's grader grades: each submission rebuilt from its source notebook with
# only its solutions pasted in, so that added, edited or deleted cells count for nothing.
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteCells, RebuildFromSource, CheckCellMetadata]
# Seconds per cell (nbgrader's default is 30): the longest cells at the students' settings
# take minutes on a laptop's CPU (the README's table of notebook timings).
c.Execute.timeout = 600
# nbconvert's page templates, for the feedback, are in the course's environment, on which
# nbgrader's is layered.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    filter(None, [os.environ.get("JUPYTER_PATH"), course_jupyter_data()]))
'''


def cell_metadata(cell):
    """nbgrader's metadata for one cell of a course notebook."""
    check = cell.cell_type == "code" and CHECK_CELL.fullmatch(cell.source.strip())
    if cell.cell_type == "code" and BEGIN in cell.source:
        role = {"solution": True, "grade": False, "locked": False,
                "grade_id": exercise_name(cell.source)}
    elif check:
        role = {"solution": False, "grade": True, "locked": True, "points": POINTS,
                "grade_id": f"check_{check[1]}"}
    else:
        role = {"solution": False, "grade": False, "locked": True,
                "grade_id": f"cell-{cell.id}"}
    return {**role, "schema_version": SCHEMA_VERSION}


def nbgrader_source(notebook, name):
    """A copy of a course notebook (nbformat) with nbgrader's metadata on every cell."""
    source = nbformat.from_dict(notebook)
    source.metadata[COURSE_METADATA] = {"notebook": name}  # make grade can grade it too
    for cell in source.cells:
        cell.metadata["nbgrader"] = cell_metadata(cell)
    return source


def write_course(dest, notebooks, overwrite=False):
    """Write the configuration and a source folder per notebook; return what was done."""
    written = [(dest / "nbgrader_config.py",
                CONFIG.format(instructor=str(REPO_ROOT / "instructor")))]
    for path in notebooks:
        source = nbgrader_source(nbformat.read(path, as_version=4), path.stem)
        written.append((dest / "source" / path.stem / path.name, nbformat.writes(source)))
    lines = []
    for path, text in written:
        if path.exists() and not overwrite:
            lines.append(f"kept {path}: it exists (--overwrite replaces it)")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        lines.append(f"wrote {path}")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="the course folder (created if missing)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="course notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace files already in the folder")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.dest.exists() and not args.dest.is_dir():
        parser.error(f"{args.dest} is a file, not a folder")
    for line in write_course(args.dest, notebooks, args.overwrite):
        print(line)
    activate = REPO_ROOT / ".venv-nbgrader" / "bin" / "activate"  # make nbgrader's venv
    print(f"next: source {activate} && cd {args.dest} && nbgrader generate_assignment "
          "<notebook> (INSTRUCTORS.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
