"""One home for each taught function: the solution a notebook shows is, line for line, the
body of the nst_course function of the same name, the code the later notebooks, stylize
and the command line run. The module is the home; this test fails when a notebook's
solution and the module drift apart.

Compared after two normalisations only: a notebook reaches the module's names through
`nst.` (`nst.STYLE_LAYERS`), the module names them bare; the module's docstring and the
imports at the top of a body (a notebook imports at its top) are left out.
"""

import ast
import sys

import nbformat
import pytest

import nst_helpers as nst

sys.path.insert(0, str(nst.REPO_ROOT / "instructor"))
from grade import exercise_name  # noqa: E402
from student_copies import BEGIN  # noqa: E402

MODULE = ast.parse((nst.REPO_ROOT / "nst_course.py").read_text())
DEFINED = {node.name: node for node in MODULE.body if isinstance(node, ast.FunctionDef)}


def exercises():
    for path in sorted((nst.REPO_ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and BEGIN in cell.source:
                yield pytest.param(cell.source, id=exercise_name(cell.source))


class _Unprefix(ast.NodeTransformer):
    """nst.X -> X."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "nst":
            return ast.copy_location(ast.Name(node.attr, node.ctx), node)
        return node


def code(function):
    """A function's signature and body as text, without its docstring and leading imports."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    while body and isinstance(body[0], (ast.Import, ast.ImportFrom)):
        body = body[1:]
    function = _Unprefix().visit(ast.FunctionDef(
        name=function.name, args=function.args, body=body, decorator_list=[],
        returns=None, type_params=[], lineno=1, col_offset=0))
    return ast.unparse(function)


@pytest.mark.parametrize("source", exercises())
def test_a_notebooks_solution_is_the_modules_code(source):
    name = exercise_name(source)
    notebook_function = next(node for node in ast.parse(source).body
                             if isinstance(node, ast.FunctionDef) and node.name == name)
    assert name in DEFINED, f"nst_course has no {name}"
    assert code(notebook_function) == code(DEFINED[name])


def test_the_comparison_sees_a_change():
    source = "def f(a, b=nst.X):\n    '''doc'''\n    import numpy\n    return nst.g(a) + b"
    same = "def f(a, b=X):\n    return g(a) + b"
    function, twin = (ast.parse(text).body[0] for text in (source, same))
    assert code(function) == code(twin)
    changed = ast.parse("def f(a, b=X):\n    return g(a) - b").body[0]
    assert code(function) != code(changed)
