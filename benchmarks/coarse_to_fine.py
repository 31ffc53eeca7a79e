"""Coarse to fine against one pass at 512 px, measured in one run on this machine.

Prints, for one pass of 200 L-BFGS evaluations at 512 px (the command line's old default
path) and for stylize's default coarse-to-fine schedule: the wall time, the final cost,
when the one pass reached that same cost, and whether the schedule reaches the cost of the
one pass's 200 evaluations (issue target: in at most a third of its time). Then the cost
of one L-BFGS evaluation over a bare VGG19 forward-and-backward pass. Writes both pictures
and the two side by side to build/benchmarks/ to compare by eye. Run with `make benchmark`
(about 6 minutes on a 2-core CPU). Timings are noisy on shared machines: compare figures
from the same run.
"""

import sys
import time
from pathlib import Path

import numpy as np

import nst_helpers as nst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import Results  # noqa: E402
from speed import bare_vgg_seconds_per_step, time_to_reach  # noqa: E402

SIZE = 512
CONTENT = nst.IMAGES_DIR / "content" / "mont_saint_michel.jpg"
STYLE = nst.IMAGES_DIR / "style" / "van_gogh_cafe_terrace_at_night.jpg"
OUTPUT = nst.REPO_ROOT / "build" / "benchmarks"
RUNS = {  # name: (schedule, evaluations in all)
    "one pass, 200": (None, 200),
    f"default schedule, {nst.DEFAULT_STEPS}": ("auto", nst.DEFAULT_STEPS),
}


def main():
    content, style = nst.load_image(CONTENT, SIZE), nst.load_image(STYLE, SIZE)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    bare = bare_vgg_seconds_per_step(content)
    print(f"{nst.describe_device()}; content {content.shape[2]}x{content.shape[1]} px; "
          f"bare VGG19 forward and backward: {bare:.2f} s")
    results, table = {}, Results("coarse_to_fine", nst.describe_device())
    for name, (schedule, steps) in RUNS.items():
        start = time.perf_counter()
        result = nst.stylize(content, style, steps=steps, schedule=schedule, progress=False)
        wall = time.perf_counter() - start
        results[name] = (result, wall)
        nst.save_image(result.image, OUTPUT / f"{name.replace(' ', '_')}.jpg", overwrite=True)
        stages = " + ".join(f"{count} at {side} px" for side, count in result.settings[
            "schedule"])
        print(f"{name:>24}: {stages}: {wall:6.1f} s ({wall / bare:5.1f} bare passes), "
              f"cost {result.best_loss:.3g}", flush=True)
        table.add(f"stylize at {SIZE} px, {name} evaluations ({stages})",
                  f"{wall:.0f} s: {wall / bare:.0f} bare passes ({bare:.2f} s); cost "
                  f"{result.best_loss:.3g}")
    (single, single_wall), (scheduled, scheduled_wall) = results.values()
    reached = time_to_reach(single.history, scheduled.best_loss)
    print(f"the one pass reached the schedule's final cost "
          f"{'never' if reached is None else f'after {reached:.0f} s'}; the schedule "
          f"took {scheduled_wall / single_wall:.2f} of the one pass's time and ended at "
          f"{scheduled.best_loss / single.best_loss:.2f}x its 200-evaluation cost "
          f"(target: that cost in at most 1/3 of the time)")
    nst.save_image(np.concatenate([single.image[0], scheduled.image[0]], axis=0),
                   OUTPUT / "side_by_side_one_pass_above_schedule_below.jpg", overwrite=True)
    per_evaluation = float(np.median(np.diff(single.history["seconds"])))
    print(f"one pass: {per_evaluation:.2f} s per L-BFGS evaluation, "
          f"{per_evaluation / bare:.2f}x a bare pass")
    cost_ratio = scheduled.best_loss / single.best_loss
    table.add("the default schedule against the one pass",
              f"{scheduled_wall / single_wall:.2f} of its time, {cost_ratio:.2f} of its cost",
              "its cost in at most 1/3 of its time")
    table.save()


if __name__ == "__main__":
    main()
