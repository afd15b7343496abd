# Developer entry points. `make test` is what CI runs (see .ci/run); every target installs what it
# needs on first use, from the lock file (uv.lock), with only python3 and make to start from.
PYTHON ?= python3
# make serve HOST=... PORT=...: passed on only when given, so JWTKIT_HOST/JWTKIT_PORT and a
# --config file still apply otherwise (the service's defaults: 127.0.0.1, 8000).
HOST ?=
PORT ?=

VENV := .venv
BIN := $(VENV)/bin
# uv itself lives in its own small venv, installed by pip from hash-pinned requirements-uv.txt.
UV := .uv/bin/uv
# uv uses this interpreter and never downloads one.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
SYNC := $(UV) sync --locked --quiet

.PHONY: test lint typecheck pytest sync-test serve bench lock test-latest test-oldest clean \
	screenshots

$(UV): requirements-uv.txt
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--only-binary :all: -r requirements-uv.txt
	touch $@

# The locked test environment: every extra plus the test tools, exactly as uv.lock pins them.
sync-test: $(UV)
	$(SYNC) --extra all --group test

lint: sync-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: sync-test
	$(BIN)/mypy

pytest: sync-test
	$(BIN)/pytest --cov --cov-report=term

test: lint typecheck pytest

# The token service on SQLite with development settings; state in ./.jwtkit/ (git-ignored).
# `make serve PORT=9000 HOST=127.0.0.2` picks another address.
serve: $(UV)
	$(SYNC) --inexact --extra server
	$(BIN)/jwtkit serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# The login and consent pages as docs/server.md shows them (docs/images/login.png and
# consent.png), the token inspector as docs/page.md does (inspector.png, inspector-dark.png)
# and each step of the page's walk-through (docs/images/flow-*.png): the browser tests
# photograph them in Debian's Chromium (apt-get install chromium; never a downloaded browser),
# and fail without it.
screenshots: sync-test
	JWTKIT_SCREENSHOTS=docs/images $(BIN)/pytest -q -p no:cacheprovider \
		tests/server/test_provider_browser.py::test_sign_in_consent_tokens_userinfo_refresh_and_logout \
		tests/server/test_page_inspector_browser.py::test_a_token_of_the_service_decoded_and_verified_with_its_jwks \
		tests/server/test_page_inspector_browser.py::test_light_and_dark_pass_axe \
		tests/server/test_page_flow_browser.py

bench: $(UV)
	$(SYNC) --extra all --group test --group bench
	$(BIN)/python benchmarks/compare.py

# Re-resolve every dependency to its newest allowed version and rewrite uv.lock.
lock: $(UV)
	$(UV) lock --upgrade

# The suite against the newest release of everything (no lock): types and tests.
test-latest: $(UV)
	$(UV) venv --quiet --clear .venv-latest
	$(UV) pip install --quiet --python .venv-latest/bin/python -e '.[all]' --group test
	.venv-latest/bin/mypy --cache-dir .mypy_cache/latest
	.venv-latest/bin/pytest -p no:cacheprovider -q

# The suite against every declared lower bound (pyproject.toml), resolved to its lowest version.
test-oldest: $(UV)
	$(UV) venv --quiet --clear .venv-oldest
	$(UV) pip install --quiet --python .venv-oldest/bin/python --resolution lowest-direct \
		-e '.[all]' --group test
	.venv-oldest/bin/pytest -p no:cacheprovider -q

clean:
	rm -rf $(VENV) .venv-latest .venv-oldest .uv .pytest_cache .mypy_cache .ruff_cache \
		.coverage htmlcov dist build
