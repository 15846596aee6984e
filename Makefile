# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
# Two installs share one .venv: the app's (ONNX Runtime, no torch) and the developer's on top of it
# (the training extra with torch, test and export tools); each has its own stamp.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-stamp
DEV_STAMP := $(VENV)/.dev-stamp

.PHONY: run test bench setup setup-run system-deps clean package package-check

setup: $(DEV_STAMP)

setup-run: $(RUN_STAMP)

system-deps:
	@bash scripts/system-deps.sh

# What running the app needs and nothing more: no torch (750 MB).
$(RUN_STAMP): pyproject.toml scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

# torch is pinned and installed first so nothing pulls a CUDA build.
$(DEV_STAMP): $(RUN_STAMP)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,training,corpus]'
	# The wheel that ships MusiCNN's original weights, for the reproducibility test only (its
	# dependency pins cannot install on Python 3.11, and it is never imported at run time).
	$(PY) -m pip install -q --no-deps musicnn==0.1.0
	@touch $@

# Opens the app on the demo library; on a machine without a display, prints demo searches instead.
run: $(RUN_STAMP)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then $(VENV)/bin/sbf gui --demo; \
	else echo "No display: showing the demo library's searches in the terminal (sbf gui opens the app)."; \
	$(VENV)/bin/sbf demo; fi

test: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(DEV_STAMP)
	$(PY) -m benchmarks

# The one-folder desktop app, dist/SimilarButFaster/ (docs/packaging.md), from the app's install: no torch.
# package-check also runs its self-test.
$(VENV)/.package-stamp: $(RUN_STAMP)
	$(PY) -m pip install -q -e '.[package]'
	@touch $@

package: $(VENV)/.package-stamp
	@bash packaging/build.sh

package-check: package
	dist/SimilarButFaster/SimilarButFaster --selftest

clean:
	rm -rf $(VENV) *.egg-info build dist
