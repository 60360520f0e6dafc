# The targets CI and the README use. `make test` and `make demo` create the environment themselves.
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: dev lint test demo bench docs clean

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-extras
	@touch $@

dev: .venv/.synced

lint: dev
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

test: lint
	$(UV) run --frozen pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

demo: dev
	$(UV) run --frozen middlebrick demo

bench: dev
	$(UV) run --frozen python -m bench.scan_bench

docs: dev
	$(UV) run --frozen python docs/generate.py docs

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .coverage
