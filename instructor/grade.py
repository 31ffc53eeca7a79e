"""Grade submitted notebooks: run each headless, record every exercise check, write a CSV.

    python instructor/grade.py SUBMISSION.ipynb ... [--output grades.csv] [--timeout 900]
                               [--jobs 2]

A submission is not run as handed in: it is rebuilt from the committed notebook it is a copy
of, with only its solutions (the lines between the fixed ones around each exercise) pasted
in, so edited checks and added cells count for nothing. A solution that adds code outside
its function, or reaches for the reference it should implement (nst.gram_matrix, an import
of nst_helpers, getattr, sys.modules, ...) is failed and replaced by the unwritten stub.
Each rebuilt notebook runs in its own process, in a fresh sandbox folder holding copies of
the course's modules (nst_*.py), images/, generated_images/ and models/, with a time limit.
A notebook that hangs is stopped, one that crashes its kernel or deletes files harms only
its own sandbox: the others are still graded. The CSV has one row per submission, one column
per check (passed / failed / error, empty when the notebook has no such check) and the
reasons of the failures in `notes`; a summary is printed and saved beside it. Notebooks run
in quick mode (NST_QUICK=1) unless --full is given.
"""

import argparse
import ast
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from student_copies import BEGIN, COURSE_METADATA, SOLUTION, stub_source

REPO_ROOT = Path(__file__).resolve().parents[1]
COURSE_NOTEBOOKS = REPO_ROOT / "notebooks"
CHECK_CALL = re.compile(r"nst\.check_(\w+)\(")
# A wrong or unwritten answer. An error output names only the exception's class: the checks'
# guard raises nst_checks._ReferenceUsed, an AssertionError of its own.
FAILED_ERRORS = {"AssertionError", "_ReferenceUsed", "NotImplementedError"}

# What a solution may not use: the reference named like the exercise, and the helpers that
# do its work wholesale (nst_helpers.REFERENCE_SHORTCUTS, which the checks' dynamic guard
# uses too and which catches what this static look cannot see).
HELPER_MODULE_NAMES = {"nst", "nst_helpers", "nst_course", "nst_checks"}
# nst_helpers and every module beside it, which a graded notebook's sandbox must hold: one
# left out would be imported from the repository instead, with the repository's folders.
COURSE_MODULES = {path.stem for path in REPO_ROOT.glob("nst_*.py")}
# Ways to reach the references, the checks or their frames without naming them, or to
# blind the guard (a profiler hook).
REACHING_NAMES = {"getattr", "setattr", "delattr", "vars", "globals", "locals", "exec",
                  "eval", "compile", "__import__", "__builtins__", "get_ipython"}
REACHING_MODULES = {"importlib", "builtins", "inspect", "gc", "ctypes"}
REACHING_ATTRIBUTES = {"modules", "_getframe", "f_back", "f_globals", "f_locals",
                       "f_builtins", "tb_frame", "gi_frame", "cr_frame", "setprofile",
                       "settrace"}


def course_checks():
    """Check names in course order, as found in the committed notebooks."""
    names = []
    for path in sorted(COURSE_NOTEBOOKS.glob("*.ipynb")):
        names += [n for n in checks_in(nbformat.read(path, as_version=4)) if n not in names]
    return names


def checks_in(notebook):
    return [n for cell in notebook.cells if cell.cell_type == "code"
            for n in CHECK_CALL.findall(cell.source)]


def reference_for(path, notebook):
    """The committed notebook a submission is a copy of: named in the metadata that
    student_copies.py writes, else by a course notebook's name inside the file name."""
    references = {p.stem: p for p in COURSE_NOTEBOOKS.glob("*.ipynb")}
    recorded = notebook.metadata.get(COURSE_METADATA)
    stem = recorded.get("notebook") if isinstance(recorded, dict) else None
    if stem in references:
        return references[stem]
    named = [s for s in references if s in path.name]
    if len(named) == 1:
        return references[named[0]]
    raise ValueError("cannot tell which course notebook this is: no nst_course metadata and "
                     "no course notebook name (such as 02_content_cost) in the file name")


def rebuild(submission, reference):
    """The reference notebook with the submission's solutions pasted in.

    Returns (notebook, {exercise: [reasons]}) for the solutions refused: those keep the
    unwritten stub, so that nothing of them runs.
    """
    rebuilt = nbformat.from_dict(reference)
    refused = {}
    for cell in rebuilt.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if BEGIN in cell.source:
            name = exercise_name(cell.source)
            source, reasons = paste_solution(cell.source, name, submission)
            if reasons:
                refused[name] = reasons
            cell.source = stub_source(cell.source) if reasons else source
    return rebuilt, refused


def exercise_name(source):
    """The top-level function whose body holds the solution markers."""
    marker_line = source[:source.index(BEGIN)].count("\n") + 1
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.lineno <= marker_line <= node.end_lineno:
            return node.name
    raise ValueError(f"a solution outside a top-level function in the course:\n{source}")


def paste_solution(reference_source, name, submission):
    """(the exercise cell with the submission's solution, []) or (None, [reasons])."""
    # The regex's one group is the indentation, so every other piece is a fixed part.
    fixed = SOLUTION.split(reference_source)[::2]
    defines = re.compile(rf"^def {re.escape(name)}\(", re.MULTILINE)
    cell = next((c for c in submission.cells
                 if c.cell_type == "code" and defines.search(c.source)), None)
    if cell is None:
        return None, [f"no cell defines {name}"]
    pattern = "(.*?)".join(re.escape(without_trailing_spaces(part)) for part in fixed)
    match = re.fullmatch(pattern, without_trailing_spaces(cell.source), re.DOTALL)
    if match is None:
        return None, ["the lines around the solution were changed: only the part "
                      "between them may be edited"]
    solutions = [*match.groups(), ""]  # one fewer than the fixed parts around them
    source = "".join(part + solution for part, solution in zip(fixed, solutions, strict=True))
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return None, [f"does not parse: {error.msg} (line {error.lineno})"]
    if top_level(tree) != top_level(ast.parse(reference_source)):
        return None, [f"adds code outside {name}: only its body is graded"]
    return source, forbidden_uses(tree, name)


def without_trailing_spaces(text):
    return "\n".join(line.rstrip() for line in text.split("\n"))


def top_level(tree):
    """A cell's top-level statements: definitions by kind and name, the others in full."""
    return [(type(node).__name__, node.name) if hasattr(node, "name") else ast.dump(node)
            for node in tree.body]


def forbidden_uses(tree, exercise):
    """Why the code reaches around the exercise: the reference it should write, the helpers
    that do its work, the checks or their frames. [] for an honest solution."""
    from nst_helpers import REFERENCE_SHORTCUTS  # imports TensorFlow: only when grading

    # {attribute: as shown}: nst_helpers' helpers by name, Keras layers by dotted path.
    wholesale = {shortcut.rsplit(".", 1)[-1]: shortcut if "." in shortcut else f"nst.{shortcut}"
                 for shortcut in REFERENCE_SHORTCUTS.get(exercise, [])}
    helper_bases = set()  # `nst` in `nst.unroll`: the one allowed use of the module
    reasons = []
    for node in ast.walk(tree):  # parents come before children
        if isinstance(node, ast.Attribute):
            on_helpers = isinstance(node.value, ast.Name) and node.value.id in HELPER_MODULE_NAMES
            if on_helpers:
                helper_bases.add(node.value)
            reasons += attribute_reasons(ast.unparse(node), node.attr, exercise, wholesale)
            if on_helpers and node.attr.startswith("_"):
                reasons.append(f"uses {ast.unparse(node)}, a private part of the course's code")
            if not isinstance(node.ctx, ast.Load):
                reasons.append(f"changes {ast.unparse(node)}, which lies outside the exercise")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            for module in modules:
                if module.split(".")[0] in COURSE_MODULES:
                    reasons.append(f"imports {module}, the course's reference code")
                elif module.split(".")[0] in REACHING_MODULES:
                    reasons.append(f"imports {module} to reach outside the exercise")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    reasons += attribute_reasons(f"{node.module}.{alias.name}", alias.name,
                                                 exercise, wholesale)
        elif isinstance(node, ast.Name) and node.id in REACHING_NAMES:
            reasons.append(f"uses {node.id} to reach outside the exercise")
        elif isinstance(node, ast.Name) and node.id in HELPER_MODULE_NAMES \
                and node not in helper_bases:
            reasons.append(f"uses the module {node.id} itself, not one of its functions")
        elif isinstance(node, ast.Global):
            reasons.append(f"declares {', '.join(node.names)} global")
    return list(dict.fromkeys(reasons))


def attribute_reasons(dotted, attribute, exercise, wholesale):
    # Whatever the object before the dot: only nst_helpers has a .gram_matrix to reach.
    if attribute == exercise:
        return [f"calls nst.{attribute}, the reference it should implement"]
    if attribute in wholesale:
        return [f"calls {wholesale[attribute]}, which does the work of {exercise}"]
    if attribute in REACHING_ATTRIBUTES or re.fullmatch(r"__\w+__", attribute):
        return [f"uses {dotted} to reach outside the exercise"]
    return []


def run_one(notebook_path, cell_timeout):
    """Child process: execute one notebook cell by cell up to its last check, reporting each
    check's outcome.

    Reports go to stdout after each check (progress survives a kill), behind a token read
    from stdin before the kernel starts: the learner's code can write files, even to this
    process's stdout, but cannot forge a report without the token.
    """
    from nbclient import NotebookClient

    token = sys.stdin.readline().strip()
    notebook = nbformat.read(notebook_path, as_version=4)
    results = {}
    client = NotebookClient(notebook, timeout=cell_timeout, allow_errors=True,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(Path(notebook_path).parent)}})
    # The kernel gets none of our pipes: a kernel that outlives us cannot hold them open.
    # What follows the last check cannot change a grade: it is not run.
    last_check = max((index for index, cell in enumerate(notebook.cells)
                      if cell.cell_type == "code" and CHECK_CALL.search(cell.source)), default=-1)
    with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(notebook.cells[:last_check + 1]):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            for name in CHECK_CALL.findall(cell.source):
                results[name] = outcome(cell.outputs)
                print(token + json.dumps(results), flush=True)


def outcome(outputs):
    """(passed / failed / error, note): the note is the first line of the error's message,
    which the checks word for the learner; after the exception's name for other errors."""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return "passed", ""
    ename, message = errors[0].get("ename", ""), errors[0].get("evalue", "").strip()
    first_line = message.splitlines()[0] if message else ""
    if ename in FAILED_ERRORS:
        return "failed", first_line or ename
    return "error", f"{ename}: {first_line}"


def grade(notebook, name, timeout, full):
    """Run a rebuilt notebook in a sandbox; return (status, seconds, {check: (outcome, note)})."""
    # ignore_cleanup_errors: a submission may have deleted or locked its own sandbox.
    with tempfile.TemporaryDirectory(prefix="nst-grade-", ignore_cleanup_errors=True) as sandbox:
        sandbox = Path(sandbox)
        for module in COURSE_MODULES:
            shutil.copy2(REPO_ROOT / f"{module}.py", sandbox)
        shutil.copytree(REPO_ROOT / "images", sandbox / "images")
        # the gallery's pictures and the trained networks, which notebook 07 compares
        shutil.copytree(REPO_ROOT / "generated_images", sandbox / "generated_images")
        if (REPO_ROOT / "models").is_dir():
            shutil.copytree(REPO_ROOT / "models", sandbox / "models")
        (sandbox / "notebooks").mkdir()
        path = sandbox / "notebooks" / name
        nbformat.write(notebook, path)
        # PYTHONPATH: the kernel must import the sandbox's nst_helpers, not the one installed
        # (editable) from the repository, whose IMAGES_DIR is the repository's own.
        env = {**os.environ, "NST_QUICK": "0" if full else "1", "TF_CPP_MIN_LOG_LEVEL": "2",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(sandbox),
                                                           os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, __file__, "--run-one", str(path), str(timeout)]
        token = secrets.token_hex(16)
        start = time.perf_counter()
        status, stdout = run_with_time_limit(command, sandbox, env, timeout, token)
        seconds = time.perf_counter() - start
    reports = [line[len(token):] for line in stdout.splitlines() if line.startswith(token)]
    return status, seconds, json.loads(reports[-1]) if reports else {}


def run_with_time_limit(command, folder, env, timeout, token):
    """Run the child in its own process group; kill the whole group when time is up.

    Returns (status, the child's stdout).
    """
    child = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        stdout, stderr = child.communicate(token + "\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the kernel exits when its parent dies
        stdout, _ = child.communicate()  # what was reported before the kill
        return f"timeout after {timeout} s", stdout
    return ("ok" if child.returncode == 0 else f"crashed: {last_line(stderr)}"), stdout


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="*", type=Path, help="submitted .ipynb files")
    parser.add_argument("--output", type=Path, default=Path("grades.csv"), help="the CSV")
    parser.add_argument("--timeout", type=int, default=900,
                        help="seconds per notebook before it is stopped (default 900)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once, each in its own kernel (default 1)")
    parser.add_argument("--full", action="store_true",
                        help="run with the student settings, not quick mode (slower)")
    parser.add_argument("--run-one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one[0], int(args.run_one[1]))
        return 0
    if not args.submissions:
        parser.error("name at least one submitted notebook")
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")

    rows = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each job waits on a process
        graded = pool.map(lambda path: grade_submission(path, args.timeout, args.full),
                          args.submissions)
        for submission, (row, checks) in zip(args.submissions, graded, strict=True):
            rows.append(row)
            passed = sum(row[name] == "passed" for name in checks)
            print(f"{submission}: {row['status']}, {passed}/{len(checks)} checks passed",
                  flush=True)

    checks = course_checks()  # the rebuilt notebooks are course notebooks: no other checks

    write_csv(args.output, rows, checks)
    summary = summarize(rows, checks)
    args.output.with_suffix(".summary.txt").write_text(summary)
    print(summary, end="")
    print(f"wrote {args.output} and {args.output.with_suffix('.summary.txt')}")
    return 0


def grade_submission(path, timeout, full):
    """Rebuild a submission from its reference, run it, merge the verdicts.

    Returns (CSV row, the checks of its notebook).
    """
    row = {"submission": str(path), "seconds": "0", "notes": ""}
    try:
        submission = nbformat.read(path, as_version=4)
        reference_path = reference_for(path, submission)
        rebuilt, refused = rebuild(submission, nbformat.read(reference_path, as_version=4))
    except Exception as error:  # an unreadable or unknown notebook: one clear line, no run
        return {**row, "status": f"error: {error}".splitlines()[0]}, []
    status, seconds, results = grade(rebuilt, reference_path.name, timeout, full)
    checks = checks_in(rebuilt)
    if status != "ok":  # checks it never reached count as errors
        results = {**{name: ("error", "") for name in checks}, **results}
    # A refused solution fails whatever the stub did, with the reason in the notes.
    results.update({name: ("failed", "") for name in refused if name in checks})
    notes = [f"{name}: {', '.join(reasons)}" for name, reasons in refused.items()]
    notes += [f"{name}: {note}" for name, (_, note) in results.items() if note]
    return {**row, "status": status, "seconds": f"{seconds:.0f}", "notes": "; ".join(notes),
            **{name: verdict for name, (verdict, _) in results.items()}}, checks


def write_csv(path, rows, checks):
    columns = ["submission", "status", "seconds", *checks, "notes"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, restval="", )
        writer.writeheader()
        writer.writerows(rows)


def summarize(rows, checks):
    lines = [f"{len(rows)} submission(s); "
             f"{sum(r['status'] == 'ok' for r in rows)} ran to the end"]
    for name in checks:
        values = [r.get(name, "") for r in rows if r.get(name, "")]
        if values:
            lines.append(f"  {name}: {values.count('passed')}/{len(values)} passed, "
                         f"{values.count('failed')} failed, {values.count('error')} error")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
