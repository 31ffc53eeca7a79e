"""The course as a website: `make book` builds build/book/ (open build/book/index.html).

Jupyter Book 1 builds it from a copy of the course in build/book-source/: the notebooks, the
cheat-sheet, images/, generated_images/, README.md (the landing page takes its introduction,
table of notebooks and gallery from it) and book/'s settings, table of contents and landing
page, and the course's modules and models/. The notebooks run in the copy and import the
modules from it, so the picture notebook 04 saves never touches the repository's
generated_images/.

In the copy, every cell tagged `claims` is also tagged `remove-cell`: the site shows what a
student reads, not what CI asserts. A quiz's code (which holds its answers) is removed, its
questions shown; an exercise's solution is folded away (`hide-input`, "Show the solution"),
its check's result shown.

Each notebook runs at a student's settings (with --quick, NST_QUICK=1: quick mode, and every
page says so) in the kernel of the course's .venv. Jupyter Book keeps each run in a cache,
keyed by the notebook's code; this script keeps one cache for each mode and each version of
the course's modules, images, models and NST_ settings, so a changed notebook runs again
alone and a changed module runs them all (every page is read again each time, from the
cache: seconds). Warnings are errors: a broken link, a missing picture or a duplicate label
fails the build.

    .venv-book/bin/python book/build.py [--quick]
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "instructor"))
from student_copies import BEGIN as SOLUTION  # noqa: E402 (the marker of an exercise's solution)

BOOK = REPO / "book"
SOURCE = REPO / "build" / "book-source"
CACHES = REPO / "build" / "book-cache"
SITE = REPO / "build" / "book"
COURSE_PYTHON = REPO / ".venv" / "bin" / "python"
# The kernel the notebooks run in: the course's .venv, a student's kernel. Jupyter's own
# "python3" would be this environment's Python, which has no TensorFlow.
KERNELS = REPO / "build" / "book-kernel"
QUICK_ANNOUNCEMENT = ("Built in quick mode: tiny pictures and a few steps, so pictures and "
                      "numbers differ from what the text says. <code>make book</code> without "
                      "QUICK=1 builds it at a student's settings.")


def tagged_for_the_site(notebook):
    """The notebook's JSON with its claims cells removed from the page, its quizzes' code
    too (the questions show), and its exercises' solutions folded away (their checks'
    results still show): a reader tries first."""
    for cell in notebook["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "claims" in tags:
            tags.append("remove-cell")
        elif "quiz" in tags:
            tags.append("remove-input")  # its source holds the answers; its output asks
        elif SOLUTION in "".join(cell["source"]):
            tags.append("hide-input")
    return notebook


def write_if_changed(path, data):
    """Writes bytes only when they differ, so that Sphinx rebuilds only the changed pages."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def copy_tree(source, target):
    for path in sorted(source.rglob("*")):
        if path.is_file():
            write_if_changed(target / path.relative_to(source), path.read_bytes())


def course_fingerprint(quick):
    """What the notebooks' outputs depend on besides their own code."""
    digest = hashlib.sha256()
    inputs = [*REPO.glob("nst_*.py"), *(REPO / "images").rglob("*"), *(REPO / "models").rglob("*")]
    for path in sorted(p for p in inputs if p.is_file()):
        digest.update(str(path.relative_to(REPO)).encode() + path.read_bytes())
    settings = {k: v for k, v in os.environ.items() if k.startswith("NST_") and k != "NST_QUICK"}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return ("quick-" if quick else "student-") + digest.hexdigest()[:16]


def cache_for(quick):
    """This build's cache folder; the caches of other versions of the course are deleted."""
    cache = CACHES / course_fingerprint(quick)
    if CACHES.exists():
        for old in CACHES.iterdir():
            if old != cache and old.name.startswith(cache.name.split("-")[0]):
                shutil.rmtree(old)
    return cache


def stage(quick):
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["execute"]["cache"] = str(cache_for(quick))
    if quick:
        config["html"]["announcement"] = QUICK_ANNOUNCEMENT
    write_if_changed(SOURCE / "_config.yml", yaml.safe_dump(config, sort_keys=False).encode())
    for name in ("_toc.yml", "index.md", "_static/course.css"):
        write_if_changed(SOURCE / name, (BOOK / name).read_bytes())
    write_if_changed(SOURCE / "README.md", (REPO / "README.md").read_bytes())
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        notebook = tagged_for_the_site(json.loads(path.read_text()))
        text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        write_if_changed(SOURCE / "notebooks" / path.name, text.encode())
    write_if_changed(SOURCE / "notebooks" / "cheatsheet.md",
                     (REPO / "notebooks" / "cheatsheet.md").read_bytes())
    # The course's modules and folders too: the kernel imports the modules from the copy
    # (PYTHONPATH), so that their folders are the copy's and a notebook that saves a picture
    # (04, at a student's settings) saves it there, not in the repository.
    for path in REPO.glob("nst_*.py"):
        write_if_changed(SOURCE / path.name, path.read_bytes())
    for folder in ("images", "generated_images", "models"):
        copy_tree(REPO / folder, SOURCE / folder)


def course_kernel():
    """A "python3" kernel spec that starts the course's Python, for JUPYTER_PATH."""
    spec = {"argv": [str(COURSE_PYTHON), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (the course's .venv)", "language": "python"}
    write_if_changed(KERNELS / "kernels" / "python3" / "kernel.json",
                     json.dumps(spec, indent=1).encode())
    return KERNELS


def build(quick):
    environment = dict(os.environ, JUPYTER_PATH=str(course_kernel()), TF_CPP_MIN_LOG_LEVEL="2",
                       PYTHONPATH=os.pathsep.join(filter(None, [str(SOURCE),
                                                                os.environ.get("PYTHONPATH")])))
    environment.pop("NST_QUICK", None)
    if quick:
        environment["NST_QUICK"] = "1"
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(SOURCE), "--path-output", str(SOURCE),
               "--warningiserror", "--keep-going", "--all"]
    subprocess.run(command, env=environment, check=True)
    if SITE.exists():
        shutil.rmtree(SITE)
    shutil.copytree(SOURCE / "_build" / "html", SITE)
    # The pictures the text shows by <img> (a table of them, sized): the same relative paths
    # as in the repository, ../images/... from a notebook's page.
    for folder in ("images", "generated_images"):
        shutil.copytree(SOURCE / folder, SITE / folder)
    # GitHub Pages runs Jekyll on a site unless told not to, and Jekyll drops _static/.
    (SITE / ".nojekyll").touch()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="quick mode (NST_QUICK=1): tiny pictures, a few steps (for CI)")
    args = parser.parse_args()
    stage(args.quick)
    try:
        build(args.quick)
    except subprocess.CalledProcessError as error:
        sys.exit(f"make book: the build failed (exit {error.returncode}); see above")
    print(f"The site is in {SITE.relative_to(REPO)}/: open {SITE.relative_to(REPO)}/index.html")


if __name__ == "__main__":
    main()
