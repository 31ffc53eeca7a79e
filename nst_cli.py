"""The command line: `python nst_helpers.py --content C --style S --output G`.

Arguments are read and checked here before nst_course (and with it TensorFlow) is
imported, so that --help and a mistyped option answer at once; the work itself is
nst_course.stylize (optimisation) or nst_course.fast_stylize (--model).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nst_settings import (
    COARSE_TO_FINE_ABOVE,
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    DEFAULT_TV_WEIGHT,
    IMAGE_SUFFIXES,
    MODEL_SUFFIX,
    OPTIMIZER_CHOICES,
    PRESERVE_COLOR_CHOICES,
    StylizeOptions,
    network_files,
)

CLI_EXAMPLE = (
    "example:\n  python nst_helpers.py --content images/content/colosseum.jpg \\\n"
    "      --style images/style/van_gogh_the_night_cafe.jpg --output generated_images/out.jpg"
)


def build_argument_parser():
    parser = argparse.ArgumentParser(
        prog="python nst_helpers.py",
        description=(
            "Paint the content of one image in the style of another (Gatys et al., 2015). "
            "Writes the picture and a .json of its settings beside it. On a 2-core laptop "
            "CPU the defaults (512 px, coarse to fine) take one to two minutes; press "
            "Ctrl-C to stop early and keep the best image so far."
        ),
        epilog=CLI_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--content", required=True, metavar="PATH", help="the photo whose layout to keep")
    add("--style", nargs="+", metavar="PATH",
        help="the painting whose style to copy (several paths blend their styles)")
    add("--model", metavar="NAME|PATH",
        help="paint with a trained network instead of optimising (no --style: the network "
             f"knows its painting): a name from models/ ({_shipped_names()}) or a "
             f"{MODEL_SUFFIX} file; under a second at 512 px")
    add("--output", required=True, metavar="PATH", help="where to write the result (.jpg/.png)")
    add("--style-blend", nargs="+", type=float, metavar="W",
        help="one weight per style image (default: equal)")
    add("--size", type=int, default=DEFAULT_SIZE, metavar="PX",
        help=f"longest side of the result in pixels (default {DEFAULT_SIZE})")
    add("--steps", type=int, default=DEFAULT_STEPS,
        help=f"cost evaluations in all, every stage included (default {DEFAULT_STEPS})")
    add("--one-pass", action="store_true",
        help=f"optimise at full size only; above {COARSE_TO_FINE_ABOVE} px the default "
             "starts at half size, where an evaluation costs a quarter as much, and "
             "finishes at full size")
    add("--optimizer", choices=OPTIMIZER_CHOICES, default="lbfgs",
        help="lbfgs converges in fewer steps; adam uses less memory (default lbfgs)")
    add("--learning-rate", type=float, default=0.02, help="Adam's step size (default 0.02)")
    add("--alpha", type=float, default=DEFAULT_ALPHA,
        help=f"weight of the content cost (default {DEFAULT_ALPHA:g})")
    add("--beta", type=float, default=DEFAULT_BETA,
        help=f"weight of the style cost (default {DEFAULT_BETA:g}); raise it for more style")
    add("--tv-weight", type=float, default=DEFAULT_TV_WEIGHT,
        help=f"weight of the smoothness term (default {DEFAULT_TV_WEIGHT:g})")
    add("--preserve-color", choices=PRESERVE_COLOR_CHOICES, default="none",
        help="keep the photo's colours: luminance (style the brightness only) or histogram "
             "(the painting recoloured with the photo's colours first); default none")
    add("--mask", action="append", metavar="PATH",
        help="once per --style, in the same order: an image, white where that style "
             "applies (any size; resized to the content)")
    add("--style-scale", type=float, default=1.0, metavar="F",
        help="resize the style image by F first: above 1 for larger strokes, below 1 for "
             "smaller ones (default 1)")
    add("--seed", type=int, default=1, help="random seed of the initial noise (default 1)")
    add("--weights", default="auto",
        help="VGG19 weights: auto, imagenet, quantized, or a Keras .h5 file (default auto)")
    add("--overwrite", action="store_true", help="replace the output file if it exists")
    add("--quiet", action="store_true", help="no progress bar")
    return parser


def _shipped_names():
    """The networks in models/, by file name alone: --help reads no file."""
    return ", ".join(network_files()) or "none yet"


# What --model leaves out: every option of the optimisation.
OPTIMISATION_OPTIONS = ("style_blend", "steps", "one_pass", "optimizer", "learning_rate",
                        "alpha", "beta", "tv_weight", "preserve_color", "mask",
                        "style_scale", "seed", "weights")


def main(argv=None):
    """Run the command line; return the exit status (0 done, 1 stopped early, 2 bad input)."""
    parser = build_argument_parser()
    args = parser.parse_args(argv)
    if (args.style is None) == (args.model is None):
        parser.error("give --style (optimise) or --model (a trained network), not "
                     + ("both" if args.style else "neither"))
    if args.model:
        ignored = [f"--{name.replace('_', '-')}" for name in OPTIMISATION_OPTIONS
                   if getattr(args, name) != parser.get_default(name)]
        if ignored:
            parser.error(f"--model paints in one pass with the settings it was trained "
                         f"with; {', '.join(ignored)} would be ignored: leave them out")
    output = Path(args.output)
    try:
        _check_output_and_masks(args, output)
        options = None if args.model else _stylize_options(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import nst_course as nst  # TensorFlow loads here, once the arguments are known good

    try:
        nst._check_parent_folders(output)  # refuse now rather than after minutes of work
        content = nst.load_image(args.content, args.size)
        if args.model:
            return _paint_with_model(args, content, output)
        styles = [_load_style(path, args.size, args.style_scale) for path in args.style]
        masks = [nst._read_rgb_pixels(Path(path)) for path in args.mask] if args.mask else None
        if masks is not None:
            nst._checked_masks(masks, content, len(styles))  # an empty mask: before any work
        scaled = options.replace(style_scale=1.0) if args.style_scale > 1 else options
        result = nst.stylize(content, styles, scaled, masks=masks, progress=not args.quiet)
        result.settings["style_scale"] = args.style_scale  # above 1: done by _load_style
        paths = nst.save_artwork(result, output, overwrite=args.overwrite,
                                 content=args.content, style=args.style)
    except (nst.ImageError, nst.WeightsError, nst.ModelError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    evaluations = len(result.history["step"])
    print(f"wrote {paths[0]} and {paths[1].name} in {result.seconds:.0f} s ({evaluations} cost "
          f"evaluation{'' if evaluations == 1 else 's'}, {result.note or result.stop_reason})")
    return 0 if result.stop_reason is nst.StopReason.FINISHED else 1


def _stylize_options(args):
    """The optimisation's options, checked before TensorFlow loads."""
    return StylizeOptions(
        alpha=args.alpha, beta=args.beta, tv_weight=args.tv_weight,
        style_blend=args.style_blend, optimizer=args.optimizer, steps=args.steps,
        learning_rate=args.learning_rate, seed=args.seed, weights=args.weights,
        preserve_color=args.preserve_color, style_scale=args.style_scale,
        schedule=None if args.one_pass else "auto")


def _check_output_and_masks(args, output):
    """What the arguments alone show to be wrong, as a one-line error."""
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{output}: the output must end in .jpg, .jpeg or .png")
    if args.mask and len(args.mask) != len(args.style):
        raise ValueError(f"{len(args.mask)} --mask for {len(args.style)} --style: give "
                         "one mask per style, in the same order")
    if not args.overwrite:
        for path in (output, output.with_suffix(".json")):
            if path.exists():
                raise FileExistsError(f"{path}: exists already; add --overwrite or rename.")


def _load_style(path, size, factor):
    """A --style image: load_image(path, size), with --style-scale above 1 read from the file
    at factor times that size instead of enlarged by stylize, which would blur its strokes
    (enlarged only as far as the file lacks the pixels). Below 1 stylize shrinks it, and
    says so if that leaves VGG19 too few pixels."""
    import nst_course as nst

    image = nst.load_image(path, size)
    if not factor > 1:
        return image
    wanted = factor * max(image.shape[1:3])
    larger = nst.load_image(path, round(wanted))
    return larger if max(larger.shape[1:3]) >= round(wanted) else nst._rescaled(
        larger, wanted / max(larger.shape[1:3]))


def _paint_with_model(args, content, output):
    """--model: the picture in one forward pass, saved with a JSON naming the network."""
    import nst_course as nst

    metadata = nst.model_metadata(args.model)
    network = nst.load_style_network(args.model)
    started = time.perf_counter()
    picture = nst.fast_stylize(content, network)
    seconds = time.perf_counter() - started
    paths = nst.save_picture(
        picture, output, overwrite=args.overwrite, content=args.content, model=args.model,
        model_file=str(nst._model_path(args.model)), style=metadata["style"],
        trained={key: metadata.get(key)
                 for key in ("alpha", "beta", "crop_size", "batch", "training_steps")},
        size=list(content.shape[1:3]), wall_seconds=round(seconds, 2))
    print(f"wrote {paths[0]} and {paths[1].name} in {seconds:.2f} s (network {args.model}, "
          f"trained on {metadata['style']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
