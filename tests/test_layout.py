"""The layout of the modules: nst_helpers, the one name notebooks import, holds no code and
imports each name from the module that defines it; no module imports it back, and the
course's modules import one another without a cycle. So from `nst.X`, X's definition is one
search away, and what a module needs it imports."""

import ast

import pytest

import nst_checks
import nst_course
import nst_helpers as nst
import nst_studio

MODULES = {path.stem: ast.parse(path.read_text())
           for path in sorted(nst.REPO_ROOT.glob("nst_*.py"))}


def imports(tree):
    """The course modules a module imports, anywhere in it (lazy imports included)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found & set(MODULES)


def test_nst_helpers_holds_nothing_but_imports():
    body = MODULES["nst_helpers"].body
    kinds = {type(node).__name__ for node in body[1:]}  # after the docstring
    assert kinds <= {"Import", "ImportFrom", "If"}  # If: the command line's hand-off
    assert all(isinstance(node.test, ast.Compare) for node in body if isinstance(node, ast.If))


def test_no_module_imports_nst_helpers_and_there_is_no_cycle():
    graph = {name: imports(tree) - {name} for name, tree in MODULES.items()}
    assert not [name for name, needs in graph.items() if "nst_helpers" in needs]
    done, visiting = set(), []

    def visit(name):
        assert name not in visiting, f"import cycle: {' -> '.join([*visiting, name])}"
        if name not in done:
            visiting.append(name)
            for needed in graph[name]:
                visit(needed)
            visiting.pop()
            done.add(name)

    for name in graph:
        visit(name)


def defined(tree):
    """The public names a module defines at its top level."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {name.id for target in node.targets for name in ast.walk(target)
                      if isinstance(name, ast.Name)}
    return sorted(name for name in names if not name.startswith("_"))


@pytest.mark.parametrize("module, names", [
    (nst_course, defined(MODULES["nst_course"])),
    (nst_checks, [name for name in defined(MODULES["nst_checks"]) if name.startswith("check_")]),
    (nst_studio, ["Studio"]),
], ids=["nst_course", "nst_checks", "nst_studio"])
def test_every_public_name_of_the_course_is_one_of_nst(module, names):
    assert names
    assert [name for name in names if getattr(nst, name, None) is not getattr(module, name)] == []


@pytest.mark.parametrize("module", ["nst_studio", "nst_studio_controls"])
def test_the_studio_is_in_parts_that_each_fit_on_a_screen(module):
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(MODULES[module]) if isinstance(node, ast.FunctionDef)
            and node.end_lineno - node.lineno + 1 > SCREEN_LINES]
    assert long == []


SCREEN_LINES = 50
