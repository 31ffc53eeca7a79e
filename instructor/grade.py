"""Grade submitted notebooks: run each headless, record every exercise check, write a CSV.

    python instructor/grade.py SUBMISSION.ipynb ... [--output grades.csv] [--timeout 900]

Each submission runs in its own process, in a fresh sandbox folder holding copies of
nst_helpers.py and images/, with a time limit. A notebook that hangs is stopped, one that
crashes its kernel or deletes files harms only its own sandbox: the others are still
graded. The CSV has one row per submission and one column per check (passed / failed /
error, empty when the notebook has no such check); a summary is printed and saved beside it.
Notebooks run in quick mode (NST_QUICK=1) unless --full is given.
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECK_CALL = re.compile(r"nst\.check_(\w+)\(")
FAILED_ERRORS = {"AssertionError", "NotImplementedError"}  # a wrong or unwritten answer


def course_checks():
    """Check names in course order, as found in the committed notebooks."""
    import nbformat

    names = []
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            names += [n for n in CHECK_CALL.findall(cell.source) if n not in names]
    return names


def run_one(notebook_path, result_path, cell_timeout):
    """Child process: execute one notebook cell by cell, recording each check's outcome."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    results = {}
    client = NotebookClient(notebook, timeout=cell_timeout, allow_errors=True,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(Path(notebook_path).parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            for name in CHECK_CALL.findall(cell.source):
                results[name] = outcome(cell.outputs)
            Path(result_path).write_text(json.dumps(results))  # progress survives a kill


def outcome(outputs):
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return "passed"
    return "failed" if errors[0].get("ename") in FAILED_ERRORS else "error"


def grade(submission, timeout, full):
    """Run one submission in a sandbox; return (status, seconds, {check: outcome})."""
    # ignore_cleanup_errors: a submission may have deleted or locked its own sandbox.
    with tempfile.TemporaryDirectory(prefix="nst-grade-", ignore_cleanup_errors=True) as sandbox:
        sandbox = Path(sandbox)
        shutil.copy2(REPO_ROOT / "nst_helpers.py", sandbox)
        shutil.copytree(REPO_ROOT / "images", sandbox / "images")
        (sandbox / "generated_images").mkdir()
        (sandbox / "notebooks").mkdir()
        notebook = sandbox / "notebooks" / Path(submission).name
        shutil.copy2(submission, notebook)
        result_path = sandbox.parent / f"{sandbox.name}.json"
        env = {**os.environ, "NST_QUICK": "0" if full else "1", "TF_CPP_MIN_LOG_LEVEL": "2",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        command = [sys.executable, __file__, "--run-one", str(notebook), str(result_path),
                   str(timeout)]
        start = time.perf_counter()
        status = run_with_time_limit(command, sandbox, env, timeout)
        seconds = time.perf_counter() - start
        try:
            results = json.loads(result_path.read_text())
        except (OSError, ValueError):
            results = {}
        finally:
            result_path.unlink(missing_ok=True)
    return status, seconds, results


def run_with_time_limit(command, folder, env, timeout):
    """Run the child in its own process group; kill the whole group when time is up."""
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the kernel exits when its parent dies
        child.communicate()
        return f"timeout after {timeout} s"
    return "ok" if child.returncode == 0 else f"crashed: {last_line(stderr)}"


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="*", type=Path, help="submitted .ipynb files")
    parser.add_argument("--output", type=Path, default=Path("grades.csv"), help="the CSV")
    parser.add_argument("--timeout", type=int, default=900,
                        help="seconds per notebook before it is stopped (default 900)")
    parser.add_argument("--full", action="store_true",
                        help="run with the student settings, not quick mode (slower)")
    parser.add_argument("--run-one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one[0], args.run_one[1], int(args.run_one[2]))
        return 0
    if not args.submissions:
        parser.error("name at least one submitted notebook")
    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")

    checks = course_checks()
    rows = []
    for submission in args.submissions:
        status, seconds, results = grade(submission, args.timeout, args.full)
        for name in results:
            if name not in checks:
                checks.append(name)
        if status != "ok":  # checks it never reached count as errors
            results = {**{n: "error" for n in checks_in(submission)}, **results}
        rows.append({"submission": str(submission), "status": status,
                     "seconds": f"{seconds:.0f}", **results})
        passed = sum(v == "passed" for v in results.values())
        print(f"{submission}: {status}, {passed}/{len(results)} checks passed", flush=True)

    write_csv(args.output, rows, checks)
    summary = summarize(rows, checks)
    args.output.with_suffix(".summary.txt").write_text(summary)
    print(summary, end="")
    print(f"wrote {args.output} and {args.output.with_suffix('.summary.txt')}")
    return 0


def checks_in(submission):
    import nbformat

    try:
        notebook = nbformat.read(submission, as_version=4)
    except Exception:
        return []
    return [n for cell in notebook.cells if cell.cell_type == "code"
            for n in CHECK_CALL.findall(cell.source)]


def write_csv(path, rows, checks):
    columns = ["submission", "status", "seconds"] + checks
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, restval="")
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
