"""What the nbgrader course's configuration (make nbgrader) takes from the course.

RebuildFromSource grades as instructor/grade.py grades: nbgrader's autograde runs it after
its OverwriteCells, so that what runs is the source notebook with only the learner's
solutions pasted in; a solution that reaches around its exercise is replaced by the
unwritten stub, with the reason as a comment above it, which the learner reads in the
feedback. course_jupyter_data() is where the course's environment keeps nbconvert's page
templates, which nbgrader's own environment (layered on it) does not see by itself.
"""

from pathlib import Path

import nbconvert
import nbformat
from grade import rebuild
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

REFUSED = "# The grader ran the stub instead of this solution: {reasons}\n"


class RebuildFromSource(NbGraderPreprocessor):
    """Replace a submission's cells by its source notebook's, with its solutions pasted in."""

    def preprocess(self, nb, resources):
        graded = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        source_folder = coursedir.format_path(coursedir.source_directory, ".",
                                              graded["assignment"])
        source = nbformat.read(Path(source_folder) / f"{graded['notebook']}.ipynb",
                               as_version=4)
        rebuilt, refused = rebuild(nb, source)
        for cell in rebuilt.cells:
            reasons = refused.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
            if reasons:
                cell.source = REFUSED.format(reasons="; ".join(reasons)) + cell.source
                self.log.warning("%s: %s", cell.metadata["nbgrader"]["grade_id"],
                                 "; ".join(reasons))
        nb.cells = rebuilt.cells
        return nb, resources




def course_jupyter_data():
    """The share/jupyter folder of the environment nbconvert is installed in (the course's,
    beside lib/pythonX.Y/site-packages): nbconvert's page templates live there."""
    return str(Path(nbconvert.__file__).parents[4] / "share" / "jupyter")
