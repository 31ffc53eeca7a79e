"""The command line: help, clear errors before any work, real tiny runs. In this process
(nst_cli.main) where a subprocess would only add a TensorFlow start-up; in a subprocess
(marked slow) where the process itself is under test: --help, exit codes, stderr."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nst_cli
import nst_course as course  # where the course's code runs: patched there
import nst_helpers as nst

CONTENT = str(nst.IMAGES_DIR / "content" / "chelsea_cat.jpg")
STYLE = str(nst.IMAGES_DIR / "style" / "van_gogh_the_harvest.jpg")


def run(*args):
    """`python nst_helpers.py ARGS` in a subprocess."""
    return subprocess.run([sys.executable, str(nst.REPO_ROOT / "nst_helpers.py"), *args],
                          capture_output=True, text=True, timeout=300)


class Ran:
    """What a command line run printed, and its exit status."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys, monkeypatch):
    """cli(*args): the command line in this process. Optimisation must not start unless
    asked (cli(..., work=True)): a refused command fails the test if it reaches VGG19."""
    def reaches_vgg19(*args, **kwargs):
        raise AssertionError("the command reached VGG19; it should have been refused")

    def call(*args, work=False):
        with monkeypatch.context() as patch:
            if not work:
                patch.setattr(course, "make_feature_extractor", reaches_vgg19)
            capsys.readouterr()
            try:
                code = nst_cli.main([str(arg) for arg in args])
            except SystemExit as exit:  # argparse's errors
                code = exit.code
        out, err = capsys.readouterr()
        return Ran(code, out, err)
    return call


@pytest.mark.slow
def test_help_explains_the_options():
    completed = run("--help")
    assert completed.returncode == 0
    for words in ("--content", "--style", "--output", "--steps", "--optimizer", "Ctrl-C",
                  "example:"):
        assert words in completed.stdout


@pytest.mark.parametrize("script, args", [
    ("nst_helpers.py", ["--help"]),
    ("nst_helpers.py", ["--content", CONTENT, "--style", STYLE, "--output", "x.gif"]),
    ("nst_helpers.py", ["--content", CONTENT]),
    ("nst_helpers.py", ["--content", CONTENT, "--style", STYLE, "--output", "x.jpg",
                        "--beta", "-1"]),
    ("training/train.py", ["--help"]),
    ("training/train.py", ["--steps", "many"]),
])
def test_help_and_argument_errors_answer_before_tensorflow_loads(script, args):
    """A script run with these arguments never imports TensorFlow (seconds of start-up):
    the arguments are read first, and these fail or answer there."""
    program = (f"import runpy, sys; sys.argv = {[script, *args]!r}\n"
               f"try: runpy.run_path({str(nst.REPO_ROOT / script)!r}, run_name='__main__')\n"
               "except SystemExit: pass\n"
               "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow')")
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                               timeout=60, cwd=nst.REPO_ROOT)
    assert completed.stdout.strip().splitlines()[-1] == "no tensorflow", completed.stderr


@pytest.mark.parametrize("option, value, words", [
    ("--beta", "-1", "beta must be a finite number at least 0, not -1.0"),
    ("--steps", "0", "steps must be a whole number of at least 1, not 0"),
    ("--style-scale", "0", "style_scale must be a finite number above 0"),
])
def test_bad_option_values_are_one_line_errors(tmp_path, capsys, option, value, words):
    status = nst_cli.main(["--content", CONTENT, "--style", STYLE, "--output",
                           str(tmp_path / "x.jpg"), option, value])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith(f"error: {words}")
    assert len(error.strip().splitlines()) == 1 and not (tmp_path / "x.jpg").exists()


def test_missing_arguments_are_named(cli):
    completed = cli("--content", CONTENT)
    assert completed.returncode == 2 and "--output" in completed.stderr


def test_missing_content_file_is_a_one_line_error(tmp_path, cli):
    completed = cli("--content", str(tmp_path / "nope.jpg"), "--style", STYLE,
                    "--output", str(tmp_path / "out.jpg"))
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "nope.jpg: no such file" in completed.stderr
    assert not (tmp_path / "out.jpg").exists()


def test_existing_output_is_refused_before_any_work(tmp_path, cli):
    output = tmp_path / "out.jpg"
    output.write_bytes(b"precious")
    completed = cli("--content", CONTENT, "--style", STYLE, "--output", output)
    assert completed.returncode == 2 and "exists already" in completed.stderr
    assert output.read_bytes() == b"precious"


def test_bad_output_suffix_is_refused(tmp_path, cli):
    completed = cli("--content", CONTENT, "--style", STYLE, "--output", str(tmp_path / "x.gif"))
    assert completed.returncode == 2 and "must end in .jpg" in completed.stderr


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_tiny_run_writes_image_and_metadata(tmp_path, cli, optimizer):
    output = tmp_path / "sub" / "cat.png"
    completed = cli("--content", CONTENT, "--style", STYLE, "--output", output,
                    "--size", "48", "--steps", "3", "--optimizer", optimizer, "--quiet",
                    "--weights", "quantized", work=True)
    assert completed.returncode == 0, completed.stderr
    assert f"wrote {output}" in completed.stdout
    assert "3 cost evaluations" in completed.stdout  # --steps 3 means 3, not 4
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["optimizer"] == optimizer and metadata["steps"] == 3
    assert metadata["evaluations"] == 3
    assert metadata["content"] == CONTENT and metadata["style"] == [STYLE]
    assert output.stat().st_mode & 0o044 == 0o044  # others may read it (umask 022 here)


@pytest.mark.slow
@pytest.mark.parametrize("level", [None, "2"])
def test_no_tensorflow_start_up_noise_unless_asked(tmp_path, level):
    """A real run, end to end in its own process: exit status 0, and nothing on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": level} if level else {})
    completed = subprocess.run(
        [sys.executable, str(nst.REPO_ROOT / "nst_helpers.py"), "--content", CONTENT,
         "--style", STYLE, "--output", str(tmp_path / "out.jpg"), "--size", "48", "--steps",
         "2", "--quiet", "--weights", "quantized"],
        capture_output=True, text=True, timeout=300, env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""  # no absl lines, no "failed call to cuInit"


def test_output_under_a_file_is_a_one_line_error(tmp_path, cli):
    (tmp_path / "file").write_text("x")
    completed = cli("--content", CONTENT, "--style", STYLE, "--output",
                    tmp_path / "file" / "out.jpg", "--size", "48", "--steps", "1",
                    "--quiet", "--weights", "quantized")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'file' / 'out.jpg'}: {tmp_path / 'file'} is a file, not a folder. "
        "Choose another output folder."]


def test_preserve_color_from_the_command_line(tmp_path, cli):
    output = tmp_path / "kept.png"
    completed = cli("--content", CONTENT, "--style", STYLE, "--output", output,
                    "--size", "48", "--steps", "2", "--quiet", "--weights", "quantized",
                    "--preserve-color", "luminance", work=True)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(output.with_suffix(".json").read_text())["preserve_color"] == "luminance"
    refused = cli("--content", CONTENT, "--style", STYLE, "--output", output,
                  "--preserve-color", "sepia")
    assert refused.returncode == 2 and "invalid choice: 'sepia'" in refused.stderr


def test_masks_from_the_command_line_are_checked_before_any_work(tmp_path, cli):
    from PIL import Image

    white, black = tmp_path / "white.png", tmp_path / "black.png"
    Image.new("L", (20, 10), 255).save(white)
    Image.new("L", (20, 10), 0).save(black)
    output = tmp_path / "out.png"
    one_for_two = cli("--content", CONTENT, "--style", STYLE, STYLE, "--mask", white,
                      "--output", output)
    assert one_for_two.returncode == 2 and "1 --mask for 2 --style" in one_for_two.stderr
    empty = cli("--content", CONTENT, "--style", STYLE, STYLE, "--mask", white,
                "--mask", black, "--output", output, "--weights", "quantized")
    assert empty.returncode == 2 and "mask 2 is empty" in empty.stderr
    assert not output.exists()
    half = tmp_path / "half.png"
    Image.fromarray(np.repeat([[0, 255]], 10, axis=0).astype(np.uint8)).save(half)
    done = cli("--content", CONTENT, "--style", STYLE, STYLE, "--mask", half,
               "--mask", white, "--output", output, "--weights", "quantized",
               "--size", "48", "--steps", "2", "--quiet", work=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(output.with_suffix(".json").read_text())["masks"] == 2


@pytest.mark.slow
def test_large_pictures_go_coarse_to_fine(tmp_path, cli):
    output = tmp_path / "cat.jpg"
    completed = cli("--content", CONTENT, "--style", STYLE, "--output", output,
                    "--size", "340", "--steps", "3", "--quiet", "--weights", "quantized",
                    work=True)
    assert completed.returncode == 0, completed.stderr
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["schedule"] == [[170, 2], [340, 1]] and metadata["evaluations"] == 3
    assert max(metadata["size"]) == 340


@pytest.mark.parametrize("flag, schedule", [([], "auto"), (["--one-pass"], None)])
def test_one_pass_flag_reaches_stylize(tmp_path, monkeypatch, flag, schedule):
    seen = {}

    def fake_stylize(content, style, options, **arguments):
        seen.update(options.as_json())
        raise ValueError("stop here")

    monkeypatch.setattr(course, "stylize", fake_stylize)
    status = nst_cli.main(["--content", CONTENT, "--style", STYLE, "--output",
                           str(tmp_path / "x.jpg"), "--size", "64", *flag])
    assert status == 2 and seen["schedule"] == schedule


def test_style_scale_above_1_reads_the_painting_larger_rather_than_enlarging_it(
        tmp_path, monkeypatch):
    """--style-scale 2 at --size 64: the painting is read from its file at 128 px, with sharp
    strokes, not loaded at 64 px and enlarged (a blurred copy); the JSON records the 2."""
    seen = {}

    def fake_stylize(content, style, options, **arguments):
        seen.update(options.as_json(), style=style[0])
        history = {"step": [1], "seconds": [0.0], "total": [1.0], "size": [64]}
        return nst.OptimizationResult(content, history, nst.StopReason.FINISHED,
                                      {"style_scale": 1.0})

    monkeypatch.setattr(course, "stylize", fake_stylize)
    output = tmp_path / "x.jpg"
    status = nst_cli.main(["--content", CONTENT, "--style", STYLE, "--output", str(output),
                           "--size", "64", "--style-scale", "2", "--quiet"])
    assert status == 0 and seen["style_scale"] == 1.0
    sharp = nst.load_image(STYLE, 128)
    np.testing.assert_allclose(seen["style"], sharp, atol=1e-6)
    enlarged = course._rescaled(nst.load_image(STYLE, 64), 2.0)
    assert float(np.abs(sharp - enlarged).mean()) > 0.01  # the two really differ
    assert json.loads(output.with_suffix(".json").read_text())["style_scale"] == 2.0


def test_style_scale_below_1_is_left_to_stylize(tmp_path, monkeypatch):
    seen = {}

    def fake_stylize(content, style, options, **arguments):
        seen.update(options.as_json(), style=style[0])
        raise ValueError("stop here")

    monkeypatch.setattr(course, "stylize", fake_stylize)
    status = nst_cli.main(["--content", CONTENT, "--style", STYLE, "--output",
                           str(tmp_path / "x.jpg"), "--size", "64", "--style-scale", "0.5"])
    assert status == 2 and seen["style_scale"] == 0.5
    assert max(seen["style"].shape[1:3]) == 64
