"""How fast is stylize? Prints, measured in one run on this machine:

1. seconds per step of stylize (Adam and L-BFGS; medians of 20 steps) beside a bare VGG19
   forward + backward pass to the same deepest layer (block5_conv1), at 256, 384 and 512
   px; the ratio is the overhead of everything that is not the network (target: 1.15x);
2. the wall time L-BFGS and Adam each need to reach the same cost at 256 px.

Run with `make benchmark`. Timings are noisy on shared machines: compare the ratios, which
are measured side by side, rather than absolute seconds across runs.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from results import Results  # noqa: E402

import nst_helpers as nst  # noqa: E402  (it imports TensorFlow without its C++ start-up lines)

tf = nst.tf

CONTENT = nst.IMAGES_DIR / "content" / "mont_saint_michel.jpg"
STYLE = nst.IMAGES_DIR / "style" / "van_gogh_cafe_terrace_at_night.jpg"
WARMUP, MEASURED = 3, 20


def bare_vgg_seconds_per_step(image):
    """Forward to the deepest layer stylize uses and the gradient with respect to the input."""
    extractor = nst.make_feature_extractor(["block5_conv1"])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(extractor.model(x, training=False)["block5_conv1"])
        return tape.gradient(loss, x)

    x = nst.vgg_preprocess(image)
    for _ in range(WARMUP):
        step(x).numpy()
    durations = []
    for _ in range(MEASURED):
        start = time.perf_counter()
        step(x).numpy()
        durations.append(time.perf_counter() - start)
    return float(np.median(durations))  # the median shrugs off the machine's hiccups


def stylize_seconds_per_step(content, style, optimizer):
    result = nst.stylize(content, style, steps=WARMUP + MEASURED, optimizer=optimizer,
                         schedule=None, progress=False)  # every step at this size
    return float(np.median(np.diff(result.history["seconds"])[WARMUP:]))


def time_to_reach(history, target):
    for seconds, cost in zip(history["seconds"], history["total"], strict=True):
        if cost <= target:
            return seconds
    return None


def main():
    results = Results("speed", nst.describe_device())
    print(f"device: {nst.describe_device()}; TensorFlow {tf.__version__}")
    print(f"{'size':>6} {'image':>10} {'bare VGG s':>11} {'Adam s':>8} {'ratio':>6} "
          f"{'L-BFGS s':>9} {'ratio':>6}")
    for size in (256, 384, 512):
        content, style = nst.load_image(CONTENT, size), nst.load_image(STYLE, size)
        # The bare pass is timed before and after, so a slow spell hits both sides.
        bare_before = bare_vgg_seconds_per_step(content)
        adam = stylize_seconds_per_step(content, style, "adam")
        lbfgs = stylize_seconds_per_step(content, style, "lbfgs")
        bare = (bare_before + bare_vgg_seconds_per_step(content)) / 2
        shape = "x".join(str(d) for d in content.shape[1:3])
        print(f"{size:>6} {shape:>10} {bare:>11.3f} {adam:>8.3f} {adam / bare:>6.2f} "
              f"{lbfgs:>9.3f} {lbfgs / bare:>6.2f}", flush=True)
        results.add(f"a step of stylize at {size} px: Adam / L-BFGS",
                    f"{adam:.2f} s / {lbfgs:.2f} s: {adam / bare:.2f} / {lbfgs / bare:.2f} "
                    f"bare passes ({bare:.2f} s)", "1.15 bare passes")

    content, style = nst.load_image(CONTENT, 256), nst.load_image(STYLE, 256)
    lbfgs = nst.stylize(content, style, steps=100, optimizer="lbfgs", progress=False)
    target = lbfgs.best_loss
    adam = nst.stylize(content, style, steps=500, optimizer="adam", progress=False)
    adam_time = time_to_reach(adam.history, target)
    lbfgs_time = time_to_reach(lbfgs.history, target)
    print(f"\nrace at 256 px to the cost L-BFGS reaches in 100 evaluations ({target:.4g}):")
    print(f"  L-BFGS: {lbfgs_time:.1f} s")
    if adam_time is None:
        adam_text = f"not reached in 500 steps ({adam.seconds:.0f} s)"
        print(f"  Adam (lr 0.02): not reached in 500 steps, {adam.seconds:.1f} s "
              f"(best {adam.best_loss:.4g}, {adam.best_loss / target:.2f}x the target)")
    else:
        adam_text = f"{adam_time:.0f} s"
        print(f"  Adam (lr 0.02): {adam_time:.1f} s")
    print(f"  Adam's best after 500 steps: {np.min(adam.history['total']):.4g}")
    results.add("time to the cost of 100 L-BFGS evaluations at 256 px: L-BFGS / Adam",
                f"{lbfgs_time:.0f} s / {adam_text}")
    results.save()


if __name__ == "__main__":
    main()
