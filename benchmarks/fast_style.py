"""The shipped style networks (notebook 07), measured in one run on this machine:

1. seconds per picture of each network at 512 and 1024 px beside a bare VGG19 forward +
   backward pass at 512 px measured in the same run (targets: at most 0.3 and 1.5 passes);
2. the peak memory of a fresh process that paints one 1024 px picture (target: under 2 GB);
3. on a course photo the network was not trained on, alpha J_content and beta J_style of the
   photo itself, of the network's picture and of the default command's picture (nst.stylize
   with the command line's defaults, run here), and how many L-BFGS evaluations at 512 px,
   one pass from the noisy photo, reach the network's cost, both measured with the costs
   the network was trained on (beta = FAST_BETA; Johnson et al. 2016 report their networks
   at about 50 to 100 L-BFGS iterations of Gatys et al.'s method on their own costs);
4. the network's picture as the start (init) of the optimisation: evaluations to reach the
   default command's cost from it, against the default command's 90.

Run with `make benchmark` (about 20 minutes on a 2-core CPU).
"""

import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from results import Results  # noqa: E402
from speed import bare_vgg_seconds_per_step  # noqa: E402

import nst_helpers as nst  # noqa: E402

tf = nst.tf
SIZE = 512
# A photo of the course's for each painting, the pair of the README's gallery (make gallery).
PHOTO_FOR = {"hokusai_great_wave": "pont_du_gard",
             "van_gogh_cafe_terrace_at_night": "mont_saint_michel",
             "kandinsky_composition_viii": "jaguars"}
LBFGS_BUDGET = 200  # evaluations, one pass at 512 px


def seconds_per_picture(photo, network, repeats=5):
    nst.fast_stylize(photo, network).numpy()  # compiles for this size
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        nst.fast_stylize(photo, network).numpy()
        durations.append(time.perf_counter() - started)
    return float(np.median(durations))


def peak_memory_gb(name, size):
    """Peak resident memory of a fresh Python that paints one picture at `size` px."""
    code = (
        "import resource, nst_helpers as nst\n"
        f"photo = nst.load_image(nst.IMAGES_DIR / 'content/colosseum.jpg', {size})\n"
        f"nst.fast_stylize(photo, {name!r}).numpy()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, cwd=nst.REPO_ROOT)
    return int(completed.stdout.split()[-1]) / 2**20  # ru_maxrss is in KiB on Linux


def speed_table(models, results):
    photo = nst.load_image(nst.IMAGES_DIR / "content" / "colosseum.jpg", SIZE)
    large = nst.load_image(nst.IMAGES_DIR / "content" / "colosseum.jpg", 2 * SIZE)
    bare = bare_vgg_seconds_per_step(photo)
    print(f"bare VGG19 forward + backward at {SIZE} px "
          f"({'x'.join(map(str, photo.shape[1:3]))}): {bare:.3f} s")
    print(f"{'network':<32} {'512 px s':>9} {'passes':>7} {'1024 px s':>10} {'passes':>7} "
          f"{'peak GB':>8}")
    for name in models:
        network = nst.load_style_network(name)
        small, big = seconds_per_picture(photo, network), seconds_per_picture(large, network)
        peak = peak_memory_gb(name, 2 * SIZE)
        print(f"{name:<32} {small:>9.3f} {small / bare:>7.2f} {big:>10.3f} {big / bare:>7.2f} "
              f"{peak:>8.2f}", flush=True)
        results.add(f"network {name}: one picture at {SIZE} / {2 * SIZE} px; peak memory of "
                    f"a fresh process at {2 * SIZE} px",
                    f"{small:.2f} s / {big:.2f} s: {small / bare:.2f} / {big / bare:.2f} bare "
                    f"passes ({bare:.2f} s); {peak:.1f} GB",
                    "0.3 / 1.5 bare passes; under 2 GB")
    print(f"targets: 512 px at most 0.3 passes, 1024 px at most 1.5, peak under 2 GB; "
          f"this process's peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f}"
          " GB")


def terms(photo, targets, image, extractor, beta=nst.DEFAULT_BETA):
    J_content, J_style = nst.batch_perceptual_costs(photo, image, targets, extractor)
    return nst.DEFAULT_ALPHA * float(J_content), beta * float(J_style)


def first_reaching(history, target):
    """The number of evaluations after which the cost is at most `target`, or None."""
    reached = np.flatnonzero(np.asarray(history["total"]) <= target)
    return int(reached[0]) + 1 if reached.size else None


def quality_table(models, results):
    layers = [nst.CONTENT_LAYER] + [name for name, _ in nst.STYLE_LAYERS]
    extractor = nst.make_feature_extractor(layers)
    print(f"\nalpha J_content + beta J_style at {SIZE} px (the command line's costs); "
          f"L-BFGS: one pass from the noisy photo, up to {LBFGS_BUDGET} evaluations")
    for name, painting_path in models.items():
        photo_name = PHOTO_FOR.get(name, "colosseum")
        photo = nst.load_image(nst.IMAGES_DIR / "content" / f"{photo_name}.jpg", SIZE)
        painting = nst.load_image(painting_path, SIZE)
        targets = nst.batch_style_targets(painting, extractor)  # once per network
        started = time.perf_counter()
        picture = nst.fast_stylize(photo, name)
        network_seconds = time.perf_counter() - started
        default = nst.stylize(photo, painting, progress=False)
        lbfgs = nst.stylize(photo, painting, beta=nst.FAST_BETA, steps=LBFGS_BUDGET,
                            schedule=None, progress=False)
        from_network = nst.stylize(photo, painting, init=picture, schedule=None,
                                   steps=nst.DEFAULT_STEPS, progress=False)
        print(f"\n{name} on {photo_name}:")
        costs = []
        for label, image, seconds in [
            ("the photo", photo, 0.0), ("the network's picture", picture, network_seconds),
            (f"the default command ({nst.DEFAULT_STEPS} evaluations)", default.image,
             default.seconds)]:
            content, style = terms(photo, targets, image, extractor)
            costs.append(content + style)
            print(f"  {label:<44} content {content:>10.4g}  style {style:>10.4g}  "
                  f"J {content + style:>10.4g}  {seconds:>6.1f} s")
        network_cost = sum(terms(photo, targets, picture, extractor, nst.FAST_BETA))
        reached = first_reaching(lbfgs.history, network_cost)
        print(f"  with the network's own costs (beta {nst.FAST_BETA:g}), J {network_cost:.4g}: "
              f"L-BFGS from the noisy photo reaches it after "
              f"{reached or f'more than {LBFGS_BUDGET}'} evaluations")
        default_cost = default.best_loss
        saved = first_reaching(from_network.history, default_cost)
        print(f"  from the network's picture, L-BFGS reaches the default command's J "
              f"({default_cost:.4g}) after {saved or f'more than {nst.DEFAULT_STEPS}'} "
              f"evaluations at {SIZE} px (the default: {nst.DEFAULT_STEPS}, coarse to fine)",
              flush=True)
        results.add(f"network {name}, on {photo_name} (never seen): J of the photo / the "
                    "network's picture / the command line's, with the command line's costs",
                    " / ".join(f"{cost:.2g}" for cost in costs))
        results.add(f"network {name}: L-BFGS evaluations from the noisy photo to the "
                    f"network's J, on its own costs (beta {nst.FAST_BETA:g})",
                    f"{reached or f'more than {LBFGS_BUDGET}'}")
        results.add(f"network {name}: evaluations from its picture to the command line's J",
                    f"{saved or f'more than {nst.DEFAULT_STEPS}'} (the command line: "
                    f"{nst.DEFAULT_STEPS})")


def main():
    models = nst.shipped_models()
    if not models:
        sys.exit("no shipped networks in models/: `make train STYLE=...` trains one")
    print(f"device: {nst.describe_device()}; TensorFlow {tf.__version__}")
    results = Results("fast_style", nst.describe_device())
    speed_table(models, results)
    quality_table(models, results)
    results.save()


if __name__ == "__main__":
    main()
