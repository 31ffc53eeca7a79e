"""The command line's default picture, timed whole: start-up, weights, every stage, saving.

Runs `python nst_helpers.py --content C --style S --output ...` at 512 px (three runs) and
at 1024 px (one run: about ten minutes here), and prints for each the wall time, the peak
memory of the process, and the wall time in bare VGG19 forward-and-backward passes at the
same size, measured in the same run (issue targets: 512 px in at most 3 minutes and at
most 75 bare passes; 1024 px in at most 12 minutes). Writes the pictures to
build/benchmarks/. Timings are noisy on shared machines: the ratio to the bare pass,
measured minutes apart, is the figure to compare across machines.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import nst_helpers as nst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import Results  # noqa: E402
from speed import bare_vgg_seconds_per_step  # noqa: E402

CONTENT = nst.IMAGES_DIR / "content" / "mont_saint_michel.jpg"
STYLE = nst.IMAGES_DIR / "style" / "van_gogh_cafe_terrace_at_night.jpg"
OUTPUT = nst.REPO_ROOT / "build" / "benchmarks"
RUNS = {512: 3, 1024: 1}
TARGETS = {512: (180, 75), 1024: (720, None)}  # (seconds, bare passes)


def run_command(size):
    """(wall seconds, peak resident memory in MiB) of one run of the command line."""
    output = OUTPUT / f"command_line_{size}px.jpg"
    command = [sys.executable, str(nst.REPO_ROOT / "nst_helpers.py"), "--content",
               str(CONTENT), "--style", str(STYLE), "--output", str(output), "--size",
               str(size), "--overwrite", "--quiet"]
    start = time.perf_counter()
    # A fresh child per run: its peak memory is read alone (wait4), not mixed with ours.
    process = subprocess.Popen(command, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
                               stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the command failed at {size} px: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    print(f"{nst.describe_device()}; content {CONTENT.name}, style {STYLE.name}")
    results = Results("command_line", nst.describe_device())
    for size, runs in RUNS.items():
        content = nst.load_image(CONTENT, size)
        bare_before = bare_vgg_seconds_per_step(content)
        measured = [run_command(size) for _ in range(runs)]
        bare = (bare_before + bare_vgg_seconds_per_step(content)) / 2
        wall = float(np.median([w for w, _ in measured]))
        memory = float(np.median([m for _, m in measured]))
        seconds_target, passes_target = TARGETS[size]
        passes = f"{wall / bare:.0f} bare passes" + (
            f" (target {passes_target})" if passes_target else "")
        shape = f"{content.shape[2]}x{content.shape[1]}"
        print(f"{size:>5} px ({shape}), median of {runs}: {wall:.0f} s (target "
              f"{seconds_target} s), {passes}, bare pass {bare:.2f} s, peak memory "
              f"{memory:.0f} MiB; runs: {', '.join(f'{w:.0f} s' for w, _ in measured)}",
              flush=True)
        target = f"{seconds_target} s" + (f", {passes_target} bare passes"
                                           if passes_target else "")
        results.add(f"the command line's picture at {size} px, whole (median of {runs})",
                    f"{wall:.0f} s: {wall / bare:.0f} bare passes ({bare:.2f} s); peak "
                    f"{memory / 1024:.1f} GiB", target)
    results.save()


if __name__ == "__main__":
    main()
