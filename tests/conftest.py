"""Shared fixtures. Tests never touch the network: the VGG19 fixture uses the offline weights."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402

import nst_helpers as nst  # noqa: E402


@pytest.fixture(scope="session")
def vgg():
    return nst.load_vgg19("quantized")


@pytest.fixture(scope="session")
def content_image():
    return nst.load_image(nst.IMAGES_DIR / "content" / "chelsea_cat.jpg", max_dim=64)


@pytest.fixture(scope="session")
def style_image():
    return nst.load_image(nst.IMAGES_DIR / "style" / "van_gogh_the_harvest.jpg", max_dim=64)
