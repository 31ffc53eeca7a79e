"""Coarse to fine against one pass at 512 px, measured in one run on this machine.

Prints, for one pass of 200 L-BFGS evaluations and for a few schedules of
stylize(schedule=[(size, evaluations), ...]): the wall time, the final cost, and when the
one pass reached that same cost; then the cost of the one pass over the bare VGG19
forward-and-backward passes it took. Writes the pictures to build/benchmarks/ to compare
by eye. Run with `make benchmark` (about 10 minutes on a 2-core CPU). Timings are noisy on
shared machines: compare figures from the same run.
"""

import sys
import time
from pathlib import Path

import numpy as np

import nst_helpers as nst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import bare_vgg_seconds_per_step, time_to_reach  # noqa: E402

SIZE = 512
CONTENT = nst.IMAGES_DIR / "content" / "mont_saint_michel.jpg"
STYLE = nst.IMAGES_DIR / "style" / "van_gogh_cafe_terrace_at_night.jpg"
OUTPUT = nst.REPO_ROOT / "build" / "benchmarks"
SCHEDULES = {
    "one pass, 200": None,
    "128 to 512 by sqrt(2)": [(128, 80), (181, 70), (256, 60), (362, 50), (512, 40)],
    "256, 512": [(256, 100), (512, 60)],
    "256, 362, 512": [(256, 80), (362, 50), (512, 50)],
}


def main():
    content, style = nst.load_image(CONTENT, SIZE), nst.load_image(STYLE, SIZE)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    bare = bare_vgg_seconds_per_step(content)
    print(f"{nst.describe_device()}; content {content.shape[2]}x{content.shape[1]} px; "
          f"bare VGG19 forward and backward: {bare:.2f} s")
    single = None
    for name, schedule in SCHEDULES.items():
        start = time.perf_counter()
        result = nst.stylize(content, style, steps=200, schedule=schedule, progress=False)
        wall = time.perf_counter() - start
        nst.save_image(result.image, OUTPUT / f"{name.replace(' ', '_')}.jpg", overwrite=True)
        single = single or result
        reached = time_to_reach(single.history, result.best_loss)
        when = "never" if reached is None else f"after {reached:.0f} s"
        print(f"{name:>24}: {wall:6.1f} s ({wall / bare:5.1f} bare passes), cost "
              f"{result.best_loss:.3g}; one pass reached that cost {when}", flush=True)
    per_evaluation = float(np.median(np.diff(single.history["seconds"])))
    print(f"one pass: {per_evaluation:.2f} s per L-BFGS evaluation, "
          f"{per_evaluation / bare:.2f}x a bare pass")


if __name__ == "__main__":
    main()
