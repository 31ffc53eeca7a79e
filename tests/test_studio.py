"""The studio of notebook 08, driven from Python: buttons clicked, runs waited for, pictures,
history, uploads, presets, Stop and Save checked, and the instant pictures of a trained
network. Tiny pictures and few steps throughout; the only network is a tiny fake one in a
temporary models/ folder, so the tests do not depend on the networks shipped."""

import datetime
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nst_course as course  # where the course's code runs: patched there
import nst_helpers as nst
import nst_studio
import nst_studio_controls

TINY, FEW = 64, 4  # px and cost evaluations of every run here
WAIT = 120  # s: generous, the CPU may be shared
NETWORK = "hokusai_great_wave"  # the fake network's name, after the painting it stands for
TRAINED = {"alpha": 10.0, "beta": 0.004, "tv_weight": 0.0}  # alpha/beta 2,500, not the 250


@pytest.fixture(scope="session")
def fake_network(tmp_path_factory):
    """A tiny untrained transformation network saved as if trained on the Great Wave."""
    folder = tmp_path_factory.mktemp("fake-network")
    network = nst.transformation_network((4, 4, 8), 1)
    nst.save_style_network(network, folder / f"{NETWORK}{nst.MODEL_SUFFIX}",
                           style=f"images/style/{NETWORK}.jpg", **TRAINED)
    return folder


@pytest.fixture
def models(tmp_path, monkeypatch, fake_network):
    """A models/ folder of this test's own holding the fake network: whatever real networks
    are shipped, only the Great Wave has one here."""
    folder = tmp_path / "models"
    shutil.copytree(fake_network, folder)
    monkeypatch.setattr(course, "MODELS_DIR", folder)
    return folder


@pytest.fixture
def studio(tmp_path, models):
    studio = nst.Studio(output_dir=tmp_path / "saved", preview_size=TINY, preview_steps=FEW)
    yield studio
    studio.stop()
    studio.wait(WAIT)


def finished(studio):
    assert studio.wait(WAIT), "the run did not end"
    assert studio.error is None, studio.message
    return studio.history[-1]


def image_bytes(image, format_name):
    buffer = io.BytesIO()
    image.save(buffer, format=format_name)
    return buffer.getvalue()


def expected_message(tmp_path, name, data):
    """The line nst.load_image raises for these bytes, with the file named as uploaded."""
    path = tmp_path / "expected" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    with pytest.raises(nst.ImageError) as raised:
        nst.load_image(path)
    return str(raised.value).replace(str(path), name)


def test_key_widgets_carry_the_browser_tests_class_names(studio):
    for widget, name in [(studio.preview_button, "preview"), (studio.render_button, "render"),
                         (studio.instant_button, "instant"), (studio.stop_button, "stop"),
                         (studio.save_button, "save"), (studio.picture, "image"),
                         (studio.status, "status")]:
        assert f"nst-studio-{name}" in widget._dom_classes
    assert studio.message == studio.status.value == nst_studio.READY
    assert studio.image is not None  # the photo, until a run makes a picture
    bundle = studio._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "make studio" in bundle["text/html"]  # what a page without a kernel shows


@pytest.mark.slow
def test_preview_click_shows_a_picture_and_joins_the_history(studio):
    photo = studio.image
    studio.preview_button.click()
    run = finished(studio)
    assert [r.kind for r in studio.history] == ["preview"]
    assert run.stop_reason is nst.StopReason.FINISHED
    assert studio.image.shape == run.image.shape and max(run.image.shape[:2]) == TINY
    assert np.isfinite(studio.image).all() and not np.array_equal(studio.image, photo)
    assert len(run.result.history["step"]) == FEW == studio.progress.value
    assert run.settings == studio.settings and studio.current is run
    assert len(studio.strip.children) == 1 and bytes(studio.costs.value).startswith(b"\x89PNG")
    assert studio.message.startswith("Run 1 (preview) done: 4 evaluations")
    assert not studio.preview_button.disabled and studio.stop_button.disabled
    assert not studio.save_button.disabled


@pytest.mark.slow
def test_render_runs_coarse_to_fine_and_updates_the_picture_as_it_goes(studio, monkeypatch):
    monkeypatch.setattr(course, "COARSE_TO_FINE_ABOVE", 48)  # so that a tiny render has stages
    monkeypatch.setattr(course, "COARSE_TO_FINE_START", 32)
    monkeypatch.setattr(nst_studio, "UPDATE_EVERY", 1)
    studio.content_picker.buttons["astronaut"].click()  # square: every stage >= 32 px
    studio.controls.size.value, studio.controls.steps.value = TINY, 12
    updates = []
    studio.picture.observe(lambda change: updates.append(change["new"]), "value")
    studio.render_button.click()
    assert studio.render_button.disabled and studio.render_button.description == "Rendering..."
    run = finished(studio)
    stages = nst.coarse_to_fine_schedule(TINY, 12)
    assert len(stages) > 1 and run.kind == "render"
    assert sorted(set(run.result.history["size"])) == sorted(side for side, _ in stages)
    assert studio.progress.max == studio.progress.value == sum(count for _, count in stages)
    assert [e.stage for e in run.curve] == [
        number for number, (_, count) in enumerate(stages, start=1) for _ in range(count)]
    assert [e.weighted["total"] for e in run.curve] == run.result.history["total"]
    assert all(e.image is None for e in run.curve)  # the run keeps no image per evaluation
    assert len(updates) >= 2  # live pictures, then the result
    assert studio.render_button.description == "Render" and not studio.render_button.disabled


@pytest.mark.slow
def test_stop_keeps_the_best_picture_and_the_studio_stays_usable(studio):
    studio.controls.size.value, studio.controls.steps.value = TINY, 1000
    assert studio.render()
    deadline = time.monotonic() + WAIT
    while studio.progress.value < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert studio.running and not studio.stop_button.disabled
    assert studio.preview() is False and "A run is under way" in studio.message  # one at a time
    studio.stop_button.click()
    run = finished(studio)
    evaluations = len(run.result.history["step"])
    assert run.stop_reason is nst.StopReason.STOPPED and 3 <= evaluations < 1000
    assert np.isfinite(run.image).all() and np.array_equal(studio.image, run.image)
    assert run.result.best_loss == min(run.result.history["total"])
    assert f"stopped after {evaluations} of 1000 evaluations" in studio.message
    studio.preview()  # and the next run works
    assert finished(studio).stop_reason is nst.StopReason.FINISHED and len(studio.history) == 2
    studio.stop()
    assert studio.message == "Nothing to stop: no run is under way."


BAD_FILES = {
    "notes.jpg": lambda: b"these are not pixels\n",
    "cut.jpg": lambda: image_bytes(Image.fromarray(np.random.default_rng(1).integers(
        0, 256, (200, 200, 3), dtype=np.uint8)), "JPEG")[:3000],
    "tiny.png": lambda: image_bytes(Image.new("RGB", (10, 10)), "PNG"),
    "bomb.png": lambda: image_bytes(Image.new("1", (10_000, 7_000)), "PNG"),  # 70 Mpx, ~9 kB
}


@pytest.mark.parametrize("name", BAD_FILES)
@pytest.mark.parametrize("role", ["content", "style"])
def test_a_bad_upload_shows_load_images_message_and_keeps_the_choice(studio, tmp_path, name,
                                                                     role):
    data = BAD_FILES[name]()
    picker = studio.content_picker if role == "content" else studio.style_picker
    before, thumbnails = picker.value, len(picker.row.children)
    assert studio.load_upload(name, data, role) is False
    expected = expected_message(tmp_path, name, data)
    assert studio.message == expected
    assert studio.status.value == nst_studio_controls.html_line(expected)  # escaped: it is HTML
    assert expected.startswith(f"{name}: ") and "\n" not in expected
    assert picker.value == before and len(picker.row.children) == thumbnails
    assert isinstance(studio.error, nst.ImageError)


def test_the_upload_widget_takes_a_good_file_and_refuses_a_bad_one(studio, tmp_path):
    def upload(name, data):
        studio.content_picker.upload.value = ({
            "name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.timezone.utc)},)

    pixels = np.random.default_rng(2).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    upload("mine.png", image_bytes(Image.fromarray(pixels), "PNG"))
    assert studio.message == "mine.png is now the content image."
    chosen = studio.content_picker.value
    assert chosen.name == "mine.png" and studio.content_picker.buttons["mine.png"]
    assert studio.content_picker.upload.value == ()  # ready for the next file
    upload("notes.png", b"not a picture")
    assert studio.message == expected_message(tmp_path, "notes.png", b"not a picture")
    assert studio.content_picker.value == chosen
    assert studio.save_name.value == "studio_mine__van_gogh_cafe_terrace_at_night.jpg"


@pytest.mark.slow
def test_an_uploaded_photo_can_be_previewed(studio):
    pixels = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    assert studio.load_upload("noise.png", image_bytes(Image.fromarray(pixels), "PNG"))
    studio.preview()
    run = finished(studio)
    assert run.settings["content"] == str(studio.content_picker.value)
    assert run.image.shape == (48, 64, 3)


def test_a_run_that_cannot_start_says_why_in_one_line(studio):
    studio.controls.style_scale.value = 0.5  # the 64 px style would shrink below 32 px
    studio.preview()
    assert studio.wait(WAIT) and studio.history == []
    assert isinstance(studio.error, ValueError)
    assert studio.message.startswith("style_scale=0.5 shrinks the style image")
    assert "\n" not in studio.message and not studio.preview_button.disabled


@pytest.mark.parametrize("name", nst_studio_controls.PRESETS)
def test_each_preset_sets_its_stated_values_and_the_defaults(studio, name):
    controls = studio.controls
    controls.ratio.value, controls.tv_weight.value, controls.style_scale.value = 10.0, 3e7, 2.0
    studio.controls.size.value = 256
    studio.preset_buttons[name].click()
    preset = nst_studio_controls.PRESETS[name]
    settings = studio.settings
    for key, value in {**nst_studio_controls.DEFAULTS, **preset["values"]}.items():
        assert settings[key] == pytest.approx(value), key
    assert settings["size"] == 256  # the render size and the pictures are not a preset's
    assert studio.message.startswith(f"Preset '{name}': {preset['about']}")


def test_presets_make_three_explorations_of_two_and_refuse_unknown_names(studio):
    explorations = [p["exploration"] for p in nst_studio_controls.PRESETS.values()]
    assert sorted(set(explorations)) == ["Keep the colours or not?", "Which alpha/beta?",
                                         "Which layers?"]
    assert all(explorations.count(e) == 2 for e in explorations)
    assert nst_studio_controls.PRESETS["shallow layers"]["values"]["layer_weights"][0] > \
        nst_studio_controls.PRESETS["deep layers"]["values"]["layer_weights"][0]
    with pytest.raises(ValueError, match="no preset 'loud'"):
        studio.apply_preset("loud")
    with pytest.raises(ValueError, match="not a setting of the studio: loudness"):
        studio.set_settings({"loudness": 11})
    studio.apply_preset("shallow layers")
    studio.defaults_button.click()
    defaults = nst_studio_controls.DEFAULTS
    assert {key: studio.settings[key] for key in defaults} == defaults
    assert studio.message == "Controls back to the course's defaults."


@pytest.mark.slow
def test_save_writes_the_picture_and_json_and_never_overwrites_unasked(studio):
    studio.save()
    assert studio.message.startswith("Nothing to save yet")
    studio.preview()
    run = finished(studio)
    path = studio.save()
    assert path.exists() and path.with_suffix(".json").exists()
    assert path.parent.name == "saved" and path.name == studio.save_name.value
    assert studio.overwrite_button.layout.display == "none"
    written = path.read_bytes()
    studio.apply_preset("more content")  # a run with another picture, the same file name
    studio.preview()
    finished(studio)
    studio.save_button.click()
    assert f"{path} exists already and was kept" in studio.message
    assert studio.overwrite_button.layout.display != "none" and path.read_bytes() == written
    studio.save_name.value = "other.png"  # a new name: no question
    assert studio.overwrite_button.layout.display == "none"
    assert studio.save().name == "other.png"
    studio.save_name.value = path.name
    studio.save()
    studio.overwrite_button.click()  # the explicit confirmation
    assert studio.message.startswith(f"Saved {path}") and path.read_bytes() != written
    studio.save_name.value = "picture.gif"
    assert studio.save() is None and "use a name ending in .jpg or .png" in studio.message
    assert run.number == 1


def test_save_refuses_when_only_the_json_exists(studio):
    studio.preview()
    finished(studio)
    json_path = Path(studio.folder.value) / "lone.json"
    json_path.parent.mkdir(parents=True)
    json_path.write_text("{}")
    studio.save_name.value = "lone.jpg"
    assert studio.save() is None and "lone.json exists already" in studio.message
    assert not json_path.with_suffix(".jpg").exists() and json_path.read_text() == "{}"


@pytest.mark.slow
def test_clicking_a_thumbnail_brings_back_its_settings_and_picture(studio):
    studio.apply_preset("more content")
    studio.preview()
    first = finished(studio)
    studio.apply_preset("photo's colours")
    studio.style_picker.buttons["hokusai_great_wave"].click()
    studio.preview()
    second = finished(studio)
    assert first.settings != second.settings
    thumbnail_button = studio.strip.children[0].children[1]
    assert thumbnail_button.description == "1 · preview 64 px"
    assert "alpha/beta 100,000" in thumbnail_button.tooltip
    thumbnail_button.click()
    assert studio.settings == first.settings and studio.current is first
    assert np.array_equal(studio.image, first.image)
    assert studio.style_picker.value.name == "van_gogh_cafe_terrace_at_night.jpg"
    assert studio.message == "Run 1 (preview) is back: its settings are in the controls."


# -- instant pictures by a trained network (Johnson et al. 2016) --------------------------


def choose_the_wave(studio):
    studio.style_picker.buttons[NETWORK].click()
    assert studio.network == NETWORK


def test_instant_is_disabled_for_a_painting_without_a_network_and_says_why(studio):
    assert studio.style_picker.value.name == "van_gogh_cafe_terrace_at_night.jpg"
    assert studio.network is None and studio.instant_button.disabled
    assert studio.from_network.disabled and not studio.from_network.value
    why = ("No trained network for this painting: `make train "
           "STYLE=images/style/van_gogh_cafe_terrace_at_night.jpg` trains one.")
    assert studio.network_note.startswith(why) and studio.instant_button.button_style == ""
    assert studio.instant_button.tooltip == studio.network_note.replace("`", "")
    assert "<code>make train STYLE=images/style/" in studio.network_label.value
    assert studio.instant() is None and studio.message.startswith(why)
    assert studio.history == [] and "\n" not in studio.message
    assert not studio.preview_button.disabled and not studio.render_button.disabled
    wave = (nst.IMAGES_DIR / "style" / f"{NETWORK}.jpg").read_bytes()
    assert studio.load_upload("my_wave.jpg", wave, "style")  # the same pixels, uploaded
    assert studio.network is None and studio.instant_button.disabled
    assert "`make train STYLE=path/to/my_wave.jpg`" in studio.network_note


def test_instant_is_offered_for_a_painting_with_a_network(studio):
    choose_the_wave(studio)
    assert not studio.instant_button.disabled and not studio.from_network.disabled
    note = studio.network_note
    assert note == studio.instant_button.tooltip
    assert studio.network_label.value == nst_studio_controls.html_line(note)
    assert studio.instant_button.button_style == "success"
    assert note.startswith(f"Instant: the network {NETWORK}, trained on this painting")
    assert "alpha 10, beta 0.004 (alpha/beta 2,500)" in note  # read from its JSON
    assert "the sliders do not apply" in note
    studio.from_network.value = True
    studio.style_picker.buttons["van_gogh_cafe_terrace_at_night"].click()
    assert studio.instant_button.disabled and studio.from_network.disabled
    assert not studio.from_network.value  # no ticked box that would do nothing


def test_instant_paints_the_photo_at_the_render_size_and_saves_it_with_the_network(studio):
    choose_the_wave(studio)
    studio.controls.size.value = 96
    studio.instant_button.click()
    run = studio.history[-1]
    photo = nst.load_image(studio.content_picker.value, max_dim=96)
    assert run.kind == "instant" and run.network == NETWORK and studio.current is run
    assert run.image.shape == photo.shape[1:] and max(run.image.shape[:2]) == 96
    np.testing.assert_allclose(run.image, np.asarray(nst.fast_stylize(photo, NETWORK))[0],
                               atol=1e-6)
    assert np.array_equal(studio.image, run.image) and studio.error is None
    assert studio.costs.layout.display == "none"  # no costs were minimised: no curve
    assert studio.message.startswith(f"Run 1 (instant): painted by the network {NETWORK} in ")
    assert "trained with fixed settings (alpha 10, beta 0.004" in studio.message
    assert "do not apply to it" in studio.message and "\n" not in studio.message
    assert studio.strip.children[0].children[1].description == "1 · instant 96 px"
    assert not studio.save_button.disabled
    path = studio.save()
    assert path.name == f"studio_mont_saint_michel__{NETWORK}_instant.jpg"
    facts = json.loads(path.with_suffix(".json").read_text())
    assert facts["model"] == NETWORK and facts["style"] == f"{NETWORK}.jpg"
    assert facts["content"] == "mont_saint_michel.jpg"
    assert facts["made_with"] == "nst_studio instant"
    assert facts["model_trained_with"] == TRAINED and facts["size"] == list(photo.shape[1:3])
    with Image.open(path) as saved:
        assert saved.size == (photo.shape[2], photo.shape[1])


def test_an_instant_picture_joins_the_strip_and_comes_back(studio):
    choose_the_wave(studio)
    studio.controls.size.value = 96
    first = studio.instant()
    studio.content_picker.buttons["astronaut"].click()
    assert studio.message == studio.network_note  # not run 1's line about another photo
    studio.controls.size.value = TINY
    second = studio.instant()
    assert [run.number for run in studio.history] == [1, 2] and studio.current is second
    assert second.image.shape == (TINY, TINY, 3) and len(studio.strip.children) == 2
    thumbnail_button = studio.strip.children[0].children[1]
    assert f"the network {NETWORK}, one forward pass" in thumbnail_button.tooltip
    thumbnail_button.click()
    assert studio.current is first and studio.settings == first.settings
    assert studio.settings["size"] == 96 and np.array_equal(studio.image, first.image)
    assert studio.message.startswith(f"Run 1 (instant) is back: painted by the network "
                                     f"{NETWORK}")


def test_a_damaged_network_file_gives_one_line_and_loses_nothing(studio, models):
    choose_the_wave(studio)
    studio.controls.size.value = TINY
    first = studio.instant()
    weights = models / f"{NETWORK}{nst.MODEL_SUFFIX}"
    weights.write_bytes(b"half a download")
    later = weights.stat().st_mtime_ns + 10**9  # another file to fast_stylize's cache
    os.utime(weights, ns=(later, later))
    assert studio.instant() is None and isinstance(studio.error, nst.ModelError)
    line = studio.message
    assert line.startswith(f"{weights}: damaged or not a style network") and "\n" not in line
    assert "make train" in line
    assert studio.history == [first] and studio.current is first
    assert np.array_equal(studio.image, first.image) and len(studio.strip.children) == 1
    assert not studio.instant_button.disabled and not studio.save_button.disabled
    studio.from_network.value = True  # a render from it fails alike, before any work
    studio.render()
    assert studio.wait(WAIT) and studio.message == line and studio.history == [first]


def test_a_models_folder_that_cannot_be_read_leaves_the_studio_working(models, tmp_path):
    (models / f"lone{nst.MODEL_SUFFIX}").write_bytes(b"")  # weights without their JSON
    studio = nst.Studio(output_dir=tmp_path / "saved", preview_size=TINY, preview_steps=FEW)
    studio.style_picker.buttons[NETWORK].click()
    assert studio.network is None and studio.instant_button.disabled
    assert studio.network_note.startswith(
        f"Instant is not available: the networks in {models} could not be read")
    assert studio.message == nst_studio.READY and not studio.preview_button.disabled


@pytest.mark.slow
def test_render_can_start_from_the_networks_picture(studio, monkeypatch):
    starts = []
    real_stylize = nst.stylize

    def spy(content, style, options, **arguments):
        starts.append(options.init)
        return real_stylize(content, style, options, **arguments)

    monkeypatch.setattr(course, "stylize", spy)
    choose_the_wave(studio)
    assert studio.settings["from_network"] is False  # off by default
    studio.from_network.value = True
    studio.controls.size.value, studio.controls.steps.value = TINY, 10
    studio.render()
    run = finished(studio)
    assert run.network == NETWORK and len(starts) == 1
    content = nst.load_image(studio.content_picker.value, max_dim=TINY)
    np.testing.assert_allclose(np.asarray(starts[0]),
                               np.asarray(nst.fast_stylize(content, NETWORK)), atol=1e-6)
    assert run.settings["from_network"] is True
    assert f"started from the network {NETWORK}'s picture" in \
        studio.strip.children[0].children[1].tooltip
    facts = json.loads(studio.save().with_suffix(".json").read_text())
    assert facts["started_from"] == f"the picture of the network {NETWORK}"
    assert facts["init"] == "an image"


def test_thumbnails_of_files_stand_upright_by_their_exif_orientation(tmp_path):
    image = Image.fromarray(np.zeros((80, 120, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": a phone held upright
    path = tmp_path / "upright.jpg"
    image.save(path, exif=exif)
    assert nst_studio_controls.thumbnail_array(path, 60).shape == (60, 40, 3)
    assert nst_studio_controls.thumbnail_array(np.zeros((80, 120, 3)), 60).shape == (40, 60, 3)
