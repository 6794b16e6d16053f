# clad_mm: the two front-door commands.
#   make demo  - set up, generate SynBG, train the baseline, CLAD and CLAD+,
#                evaluate every split and print one comparison table
#   make test  - set up with test dependencies, lint, run the whole test suite
# An active virtual environment is used as it is; otherwise .venv is created.

PYTHON_FOR_VENV ?= $(shell command -v python3.11 || command -v python3)
TORCH_PACKAGES ?= torch==2.14.1 torchvision==0.29.1
ifdef VIRTUAL_ENV
  VENV := $(VIRTUAL_ENV)
else
  VENV := .venv
endif
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.clad_mm-installed

DEMO_MODELS := resnet18_synbg_baseline resnet18_synbg_clad resnet18_synbg_clad_plus
DEMO_NAMES := Baseline CLAD CLAD+

.PHONY: demo test lint format install

$(PY):
	$(PYTHON_FOR_VENV) -m venv $(VENV)

$(INSTALLED): $(PY) setup.py
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH_PACKAGES)
	$(PY) -m pip install -e '.[tests]'
	touch $@

install: $(INSTALLED)

data/synbg/synbg_meta.json: | $(INSTALLED)
	$(PY) tools/data/make_synbg.py data/synbg

# Each model resumes where an interrupted run stopped; a finished one is only
# re-tested.
demo: $(INSTALLED) data/synbg/synbg_meta.json
	set -e; for model in $(DEMO_MODELS); do \
		$(PY) tools/train.py configs/clad/$$model.py --work-dir work_dirs/$$model --resume; \
		$(PY) tools/test.py configs/clad/$$model.py "$$(cat work_dirs/$$model/last_checkpoint)" \
			--work-dir work_dirs/$$model/test \
			--out work_dirs/$$model/test/bg_challenge.json --out-item metrics; \
	done
	$(PY) tools/analysis/compare.py \
		$(foreach model,$(DEMO_MODELS),work_dirs/$(model)/test/bg_challenge.json) \
		--names $(DEMO_NAMES) --out-dir work_dirs/synbg_comparison --overwrite

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(INSTALLED)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint
	$(PY) -m pytest
