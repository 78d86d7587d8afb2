# gifdist: `make run` serves the app, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export GIFDIST_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint format bench bench-deps clean system-deps js-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Every install step lives in pyproject.toml's extras (docs/adr/0005).
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[nsfw,video]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,nsfw,s3]'
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/gifdist db upgrade
	$(BIN)/gifdist serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gifdist

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Browser tests drive Debian's chromium and the caching-proxy test runs nginx with its
# cache-purge module; install them when missing and we may (root with apt).
SYSTEM_PACKAGES := chromium nginx
PURGE_MODULE := /usr/lib/nginx/modules/ngx_http_cache_purge_module.so
system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  command -v $$pkg >/dev/null 2>&1 || [ -x /usr/sbin/$$pkg ] || missing="$$missing $$pkg"; done; \
	[ -e $(PURGE_MODULE) ] || missing="$$missing libnginx-mod-http-cache-purge"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "note: could not install$$missing; the tests that need them will say so"; \
	  else echo "note:$$missing not installed; the tests that need them will say so"; fi; fi

# The GIF API client tests drive GIPHY's JavaScript client from npm (tests/js).
js-deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/js --no-audit --no-fund --silent; \
	else echo "note: npm is not installed; the JavaScript client test will say so"; fi

test: lint system-deps js-deps
	$(BIN)/python -m pytest -p no:cacheprovider

# wrk drives the HTTP benchmarks, nginx and ffmpeg are baselines (Debian packages).
bench-deps:
	@for tool in wrk nginx ffmpeg; do command -v $$tool >/dev/null 2>&1 || [ -x /usr/sbin/$$tool ] \
	  || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq $$tool >/dev/null; } \
	  || echo "note: $$tool is not installed"; done
	@[ -e $(PURGE_MODULE) ] || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq \
	  libnginx-mod-http-cache-purge >/dev/null; } || echo "note: nginx's cache-purge module is not installed"

bench: $(VENV)/.dev-installed bench-deps
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
