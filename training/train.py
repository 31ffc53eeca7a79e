"""Train a fast style network (Johnson et al. 2016) for one painting: `make train STYLE=...`.

The network is nst.transformation_network, trained by nst.fast_train_step with the costs of
notebooks 02 and 03 on random crops of the photos that `make photos` assembles
(training/PHOTOS.md credits them). Notebook 07 teaches every piece; this script only runs
them for hours and keeps the work safe:

- a checkpoint (weights, Adam's state, the losses so far) every --checkpoint-every steps
  and when stopped (Ctrl-C, or the end of --minutes); the same command resumes it;
- batch k is drawn from a generator seeded with (seed, k) and the initial weights from the
  seed, so a resumed run computes exactly what an uninterrupted one would;
- when the last step is done, models/<name>.weights.npz and its JSON (the painting, the
  settings, the loss curve) are written, and the curve is drawn beside them.

    python training/train.py --style images/style/hokusai_great_wave.jpg --minutes 60
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import nst_settings as settings  # noqa: E402  (after the path: the script runs from anywhere)


def build_argument_parser():
    parser = argparse.ArgumentParser(
        prog="python training/train.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add = parser.add_argument
    add("--style", required=True, metavar="PATH", help="the painting")
    add("--name", help="the network's name (default: the painting's file name)")
    add("--steps", type=int, default=2000, help="training steps in all")
    add("--size", type=int, default=256, help="side of the square crops, in pixels")
    add("--batch", type=int, default=4, help="crops per step")
    add("--style-size", type=int, default=settings.DEFAULT_SIZE,
        help="longest side of the painting; the command line's size, so that strokes come "
             "out as large as in its pictures")
    add("--alpha", type=float, default=settings.DEFAULT_ALPHA, help="content weight")
    add("--beta", type=float, default=settings.FAST_BETA,
        help="style weight (lower than the command line's: see FAST_BETA in nst_settings)")
    add("--tv-weight", type=float, default=settings.DEFAULT_TV_WEIGHT, help="smoothness weight")
    add("--learning-rate", type=float, default=1e-3, help="Adam's step size")
    add("--seed", type=int, default=1)
    add("--widths", type=int, nargs=3, default=list(settings.FAST_WIDTHS))
    add("--residual-blocks", type=int, default=settings.FAST_RESIDUAL_BLOCKS)
    add("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
        help="bfloat16 (mixed precision) halves the time on CPUs that compute it natively; "
             "auto takes it where /proc/cpuinfo shows avx512_bf16 or amx_bf16")
    add("--photos", type=Path, default=REPO_ROOT / "build" / "photos",
        help="folder of training photos (make photos)")
    add("--checkpoints", type=Path, default=REPO_ROOT / "build" / "training",
        help="where checkpoints go, one folder per network")
    add("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    add("--preview-every", type=int, default=250,
        help="steps between previews (a test photo through the network) beside the checkpoint")
    add("--minutes", type=float, help="stop (with a checkpoint) after this long; resume later")
    add("--output", type=Path, default=settings.MODELS_DIR, help="where the trained network goes")
    add("--weights", default="auto", help="VGG19 weights: auto, imagenet or quantized")
    add("--quiet", action="store_true", help="no progress bar")
    return parser


if __name__ == "__main__":
    # Parsed here, before TensorFlow loads (below), so that --help and argument errors answer
    # at once; the run uses these.
    COMMAND_LINE = build_argument_parser().parse_args()

import nst_course as nst  # noqa: E402

tf = nst.tf
SETTINGS_THAT_MUST_MATCH = ("style", "crop_size", "batch", "alpha", "beta", "tv_weight",
                            "learning_rate", "seed", "widths", "residual_blocks",
                            "precision", "photos")


def chosen_precision(precision):
    if precision != "auto":
        return precision
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    gpu = tf.config.list_physical_devices("GPU")
    return "bfloat16" if not gpu and ("avx512_bf16" in flags or "amx_bf16" in flags) \
        else "float32"


def settings_of(args):
    style = Path(args.style).resolve()
    return {
        "name": args.name or style.stem,
        "style": str(style.relative_to(REPO_ROOT)) if style.is_relative_to(REPO_ROOT)
        else str(style),
        "crop_size": args.size, "batch": args.batch, "style_size": args.style_size,
        "alpha": args.alpha, "beta": args.beta, "tv_weight": args.tv_weight,
        "learning_rate": args.learning_rate, "seed": args.seed, "widths": list(args.widths),
        "residual_blocks": args.residual_blocks, "precision": chosen_precision(args.precision),
        "photos": None, "training_steps": args.steps,
    }


def load_photos(folder, least_side):
    """Every .jpg in `folder` as a uint8 array, sorted by name (the order fixes the batches)."""
    import PIL.Image

    paths = sorted(Path(folder).glob("*.jpg"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no photos. Run `make photos` first.")
    photos = []
    for path in paths:
        with PIL.Image.open(path) as image:
            photos.append(np.asarray(image.convert("RGB")))
    small = [p.name for p, photo in zip(paths, photos, strict=True)
             if min(photo.shape[:2]) < least_side]
    if small:
        raise ValueError(f"{folder}: {len(small)} photos are smaller than {least_side} px, "
                         f"e.g. {small[0]}")
    return photos


class Trainer:
    """The network, Adam, the painting's targets and the losses so far, with checkpoints."""

    def __init__(self, settings, photos, weights):
        import keras

        self.settings, self.photos = settings, photos
        previous_policy = keras.mixed_precision.global_policy()
        if settings["precision"] == "bfloat16":  # the layers built now compute in bfloat16
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            keras.utils.set_random_seed(settings["seed"])
            self.network = nst.transformation_network(tuple(settings["widths"]),
                                                      settings["residual_blocks"])
            layers = [nst.CONTENT_LAYER] + [name for name, _ in nst.STYLE_LAYERS]
            self.extractor = _Float32Features(nst.make_feature_extractor(layers, weights))
        finally:
            keras.mixed_precision.set_global_policy(previous_policy)
        self.optimizer = keras.optimizers.Adam(settings["learning_rate"])
        self.optimizer.build(self.network.trainable_variables)
        style = nst.load_image(REPO_ROOT / settings["style"], settings["style_size"])
        self.targets = nst.batch_style_targets(style, self.extractor)
        self.losses = np.zeros((0, 3), np.float32)  # J, J_content, J_style per step
        self.seconds = 0.0
        # No AutoGraph: it reads the source again, and nst_course.py may be edited meanwhile.
        self.step_function = tf.function(nst.fast_train_step, autograph=False)

    @property
    def step(self):
        return len(self.losses)

    def batch(self, step):
        rng = np.random.default_rng([self.settings["seed"], step])
        return nst.random_crops(self.photos, self.settings["batch"],
                                self.settings["crop_size"], rng)

    def train_one_step(self):
        s = self.settings
        J = self.step_function(self.network, self.batch(self.step), self.targets,
                               self.extractor, self.optimizer, s["alpha"], s["beta"],
                               s["tv_weight"])
        values = np.array([[float(value) for value in J]], np.float32)
        if not np.all(np.isfinite(values)):
            raise FloatingPointError(f"step {self.step}: the loss is {values[0, 0]}; the "
                                     "last checkpoint is kept. Lower --learning-rate.")
        self.losses = np.concatenate([self.losses, values])

    def save_checkpoint(self, path):
        arrays = {f"network/{v.path}": np.asarray(v) for v in self.network.weights}
        arrays |= {f"optimizer/{i}": np.asarray(v)
                   for i, v in enumerate(self.optimizer.variables)}
        arrays["losses"] = self.losses
        arrays["seconds"] = np.float64(self.seconds)
        arrays["settings"] = np.array(json.dumps(self.settings))
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial.npz")
        np.savez(temporary, **arrays)
        temporary.replace(path)  # atomic: a kill mid-write leaves the previous checkpoint

    def restore(self, path):
        with np.load(path, allow_pickle=False) as stored:
            saved = json.loads(str(stored["settings"]))
            different = [key for key in SETTINGS_THAT_MUST_MATCH
                         if saved.get(key) != self.settings.get(key)]
            if different:
                raise ValueError(
                    f"{path}: was trained with other settings ({', '.join(different)}: "
                    f"{[saved.get(k) for k in different]}); use the same ones, another "
                    "--name, or delete the checkpoint to start again")
            for v in self.network.weights:
                v.assign(stored[f"network/{v.path}"])
            for i, v in enumerate(self.optimizer.variables):
                v.assign(stored[f"optimizer/{i}"])
            self.losses = stored["losses"]
            self.seconds = float(stored["seconds"])


class _Float32Features:
    """A FeatureExtractor whose activations are float32 whatever the precision policy: the
    Gram matrices sum thousands of products, beyond bfloat16's 8 bits of mantissa."""

    def __init__(self, extractor):
        self.extractor = extractor

    def __call__(self, image):
        features = self.extractor(tf.cast(image, tf.float32))
        return {name: tf.cast(a, tf.float32) for name, a in features.items()}


def train(args):
    settings = settings_of(args)
    photos = load_photos(args.photos, args.size)
    settings["photos"] = len(photos)
    folder = args.checkpoints / settings["name"]
    checkpoint = folder / "checkpoint.npz"
    trainer = Trainer(settings, photos, args.weights)
    if checkpoint.exists():
        trainer.restore(checkpoint)
        print(f"resumed {checkpoint} at step {trainer.step} of {args.steps}")
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    progress = _progress(trainer.step, args.steps, args.quiet)
    with _StopFlag() as stop:
        _train_until(trainer, args, checkpoint, stop, deadline, progress)
    if trainer.step < args.steps:
        print(f"stopped at step {trainer.step} of {args.steps}, checkpoint {checkpoint}; "
              "run the same command to resume")
        return 1
    export(trainer, args.output, folder)
    return 0


def _train_until(trainer, args, checkpoint, stop, deadline, progress):
    """Steps until the last, a stop request or the deadline; checkpoints on the way and at
    the end, whatever ends the loop (an error included: the steps done are kept)."""
    preview = nst.load_image(REPO_ROOT / "images" / "content" / "pont_du_gard.jpg", 512)
    folder = checkpoint.parent
    try:
        while trainer.step < args.steps and not stop.requested:
            started = time.perf_counter()
            trainer.train_one_step()
            trainer.seconds += time.perf_counter() - started
            progress.update(1)
            progress.set_postfix(loss=f"{trainer.losses[-1, 0]:.4g}")
            if trainer.step % args.checkpoint_every == 0 or trainer.step == args.steps:
                trainer.save_checkpoint(checkpoint)
            if trainer.step % args.preview_every == 0:
                nst.save_image(nst.fast_stylize(preview, trainer.network),
                               folder / f"preview_{trainer.step:05d}.png", overwrite=True)
            if deadline is not None and time.monotonic() > deadline:
                break
    finally:
        progress.close()
        if trainer.step % args.checkpoint_every:
            trainer.save_checkpoint(checkpoint)


class _StopFlag:
    """While in use, Ctrl-C or SIGTERM (the end of a session) ask the loop to stop after the
    current step; the previous handlers come back after."""

    def __enter__(self):
        self.requested = False
        self.previous = {sig: signal.signal(sig, self._request)
                         for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *_):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _request(self, *_):
        self.requested = True


def _progress(done, total, quiet):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, unit="step", disable=quiet)


def export(trainer, output, folder):
    """The trained network, its JSON (settings, losses every 10 steps) and its loss curve."""
    s = trainer.settings
    every = 10
    curve = trainer.losses[: len(trainer.losses) // every * every]
    curve = curve.reshape(-1, every, 3).mean(axis=1)
    facts = {
        **s, "style": s["style"], "photos_credits": "training/PHOTOS.md",
        "training_seconds": round(trainer.seconds), "device": nst.describe_device(),
        "loss_every": every, "loss": [float(f"{v:.5g}") for v in curve[:, 0]],
        "content_cost": [float(f"{v:.5g}") for v in curve[:, 1]],
        "style_cost": [float(f"{v:.5g}") for v in curve[:, 2]],
    }
    paths = nst.save_style_network(trainer.network, output / f"{s['name']}{nst.MODEL_SUFFIX}",
                                   overwrite=True, **facts)
    draw_losses(facts, output / f"{s['name']}_losses.png")
    print(f"wrote {paths[0]} and {paths[1].name} after {trainer.step} steps "
          f"({trainer.seconds / 3600:.1f} h of training)")


def draw_losses(facts, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 3.5))
    nst.plot_losses(nst.training_curves(facts), ax=ax)
    ax.set(xlabel="training step", ylabel=f"cost (mean of each {facts['loss_every']} steps)",
           title=f"{facts['name']}: {facts['batch']} crops of {facts['crop_size']} px a step")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    return run(build_argument_parser().parse_args(argv))


def run(args):
    """Train as `args` say; 2 and one line on stderr for bad input."""
    try:
        return train(args)
    except (nst.ImageError, nst.WeightsError, ValueError, OSError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run(COMMAND_LINE))
