# mempools: `make lab` to learn, `make test` to check everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CC ?= gcc
CFLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -Wcast-qual -g -Icsrc -Icsrc/exercises -Itests/c
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
C_SOURCES := $(wildcard csrc/*.c) csrc/exercises/exercise_support.c
PORT ?= 8888
# `:=` runs the shell once: with `?=` every $(TOKEN) drew a new token, so the printed URL was
# not the server's (ifndef keeps `make lab TOKEN=...` working)
ifndef TOKEN
TOKEN := $(shell $(PYTHON) -c "import secrets; print(secrets.token_hex(16))")
endif
# what students open: the lessons plus the RELEASED exercises (no solutions, no hidden tests),
# made once so a student's own edits are never overwritten (`make clean-course` starts afresh)
COURSE := course
BROWSER_FLAG := $(if $(NO_BROWSER),--no-browser)
# JupyterLab refuses to run as root (containers, CI) without saying so explicitly
AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

$(COURSE)/.made: $(VENV)/.installed
	mkdir -p $(COURSE)
	for f in notebooks/*.ipynb; do test -e $(COURSE)/$${f##*/} || cp $$f $(COURSE)/; done
	test -d $(COURSE)/exercises || $(PY) -m mempools release notebooks/exercises $(COURSE)/exercises
	touch $@

.PHONY: lab lab-instructor clean-course test install ctest lint pytest notebooks browser bench clean sandbox

$(VENV)/.installed: pyproject.toml setup.py $(wildcard csrc/*.c csrc/*.h csrc/naive/*) src/mempools/_build_ffi.py
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[lab,test]"
	touch $@

install: $(VENV)/.installed $(COURSE)/.made

# opens a browser tab unless NO_BROWSER=1; JupyterLab also logs the same URL
LAB_ARGS = --ip=127.0.0.1 --port=$(PORT) --port-retries=0 --IdentityProvider.token=$(TOKEN) \
	$(BROWSER_FLAG) $(AS_ROOT)

lab: install
	@echo "JupyterLab (lessons + student exercises) on http://127.0.0.1:$(PORT)/lab?token=$(TOKEN)"
	$(VENV)/bin/jupyter lab --notebook-dir=$(COURSE) $(LAB_ARGS)

lab-instructor: install
	@echo "JupyterLab (instructor: exercises WITH solutions) on http://127.0.0.1:$(PORT)/lab?token=$(TOKEN)"
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

clean-course:
	rm -rf $(COURSE)

build/test_pools: $(C_SOURCES) tests/c/test_pools.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(C_SOURCES) tests/c/test_pools.c -o $@

build/test_pools_sanitized: $(C_SOURCES) tests/c/test_pools.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(SANITIZE) $(C_SOURCES) tests/c/test_pools.c -o $@

FREE_LIST_C := csrc/free_list_pool.c csrc/free_list_bench.c csrc/heap_probe.c csrc/pool_common.c

build/test_free_list: $(FREE_LIST_C) $(wildcard csrc/free_list_*.h) tests/c/test_free_list.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(FREE_LIST_C) tests/c/test_free_list.c -o $@

build/test_free_list_sanitized: $(FREE_LIST_C) $(wildcard csrc/free_list_*.h) tests/c/test_free_list.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(SANITIZE) $(FREE_LIST_C) tests/c/test_free_list.c -o $@

CAPSTONE_C := csrc/exercises/capstone_support.c

build/test_capstone: $(CAPSTONE_C) csrc/exercises/capstone_support.h tests/c/test_capstone.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(CAPSTONE_C) tests/c/test_capstone.c -o $@

build/test_capstone_sanitized: $(CAPSTONE_C) csrc/exercises/capstone_support.h tests/c/test_capstone.c tests/c/check.h
	mkdir -p build
	$(CC) $(CFLAGS) $(SANITIZE) $(CAPSTONE_C) tests/c/test_capstone.c -o $@

ctest: build/test_pools build/test_pools_sanitized build/test_free_list build/test_free_list_sanitized \
		build/test_capstone build/test_capstone_sanitized
	./build/test_pools
	./build/test_pools_sanitized
	./build/test_free_list
	./build/test_free_list_sanitized
	./build/test_capstone
	./build/test_capstone_sanitized

lint: install
	$(VENV)/bin/ruff check src tests

pytest: install
	$(VENV)/bin/pytest -q -rs tests --ignore=tests/test_browser.py --ignore=tests/test_browser_predict.py \
		--ignore=tests/test_browser_capstone.py --ignore=tests/test_browser_viz.py

notebooks: install
	$(VENV)/bin/pytest -q --nbval --nbval-cell-timeout=120 \
		--nbval-sanitize-with=tests/nbval_sanitize.cfg -p no:randomly notebooks

browser: install
	$(VENV)/bin/pytest -q -rs tests/test_browser.py tests/test_browser_predict.py \
		tests/test_browser_capstone.py tests/test_browser_viz.py

# Student code in exercises runs under bubblewrap; say loudly when it cannot (the containment
# tests then skip with the same reason; .ci/run installs bwrap and makes them required).
sandbox:
	@command -v bwrap >/dev/null 2>&1 && bwrap --ro-bind / / --unshare-all --die-with-parent true \
		|| echo "!!! WARNING: bubblewrap (bwrap) is missing or refused here: exercise checks run" \
			"WITHOUT the sandbox and its tests are skipped (Debian/Ubuntu: apt-get install bubblewrap) !!!"

test: sandbox lint ctest pytest notebooks browser

bench: install
	$(PY) -m mempools bench --figure docs/bench.png

clean:
	rm -rf build $(VENV) src/mempools/*.so src/*.egg-info
