# Clip Live. `make run` and `make test` set everything up on a fresh machine first.
#   make run [URL=https://twitch.tv/somebody]   start the whole mesh and watch a stream
#   make test                                    run every test
#   make lint                                    ruff + mypy
#   make bench                                   speed and memory numbers

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
# Debian packages named after the program they bring; tests/launcher/test_packages.py checks
# that RUN_PACKAGES covers every program the code runs (espeak-ng speaks the demo's voice).
RUN_PACKAGES := ffmpeg redis-server espeak-ng
TEST_PACKAGES := sox chromium
URL ?=
TORCH_VERSION := 2.13.0
# On Linux a plain `pip install torch` pulls gigabytes of CUDA wheels: take PyTorch's CPU
# wheels from its CPU index, and the plain index only when that one cannot be reached.
# macOS and Windows wheels are CPU builds already. For a GPU build: make TORCH_INDEX=plain
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),cpu,plain)

.PHONY: run test lint bench setup run-packages test-packages apt-install clean

run: setup
	$(BIN)/clip-live run $(URL)

test: setup test-packages
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: setup
	$(BIN)/python -m bench

setup: run-packages $(STAMP)

# Debian packages the services (and the tests) call as programs. Installed only when missing.
run-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_PACKAGES)"

test-packages:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_PACKAGES)"

apt-install:
	@missing=""; \
	for tool in $(PACKAGES); do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; \
	done; \
	if [ -n "$$missing" ] && ! command -v apt-get >/dev/null 2>&1; then \
	  echo "missing programs:$$missing. Install them first (macOS: brew install ffmpeg redis espeak-ng); see README.md"; \
	  exit 1; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $$missing; \
	fi

$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt \
		requirements-test-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first (see TORCH_INDEX above), so nothing later pulls the CUDA build.
	$(BIN)/pip show torch >/dev/null 2>&1 || { \
	  [ "$(TORCH_INDEX)" = cpu ] && $(BIN)/pip install -q --timeout 20 --retries 1 \
	    torch==$(TORCH_VERSION) --index-url $(TORCH_CPU_INDEX); \
	} || $(BIN)/pip install -q torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt -r requirements-test-nodeps.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
