# clad_mm: the two front-door commands.
#   make demo  - set up, generate SynBG, train the baseline, evaluate every split
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

DEMO_CONFIG := configs/clad/resnet18_synbg_baseline.py
DEMO_WORK_DIR := work_dirs/resnet18_synbg_baseline

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

demo: $(INSTALLED) data/synbg/synbg_meta.json
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR) --resume
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_WORK_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_WORK_DIR)/test

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(INSTALLED)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint
	$(PY) -m pytest
