# Genre Studio — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench system-deps chromium ffmpeg install install-dev clean-venv train-default

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-ray.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt -r requirements-ray.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

## Start the app on http://$(HOST):$(PORT) with the shipped models (no network needed).
run: install
	$(PY) -m streamlit run app.py --server.address $(HOST) --server.port $(PORT)

## Debian packages the tests need, installed only when missing: Chromium for the real-browser
## tests (never a downloaded browser) and ffmpeg, so decoding through ffmpeg is tested for real.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-dejavu-core fonts-noto-color-emoji"; \
	command -v ffmpeg >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages for the tests:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

## Kept for muscle memory: the same as system-deps.
chromium ffmpeg: system-deps

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

## Every test: unit, package integration on the real clips, AppTest pages, browser journeys.
test: install-dev system-deps
	$(PY) -m ruff check .
	$(PY) -m pytest

## Speed figures (JSON in bench/results/); not part of the tests.
bench: install-dev
	@mkdir -p bench/results
	@for script in bench/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; \
	done

train-default: install
	$(PY) -m genre train-default

clean-venv:
	rm -rf $(VENV)
