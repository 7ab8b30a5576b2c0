.PHONY: run test bench

run:   ## install, load the demo clinic once, serve on http://127.0.0.1:8000/
	scripts/run

test:  ## install everything, then lint, type-check and run all tests on SQLite and PostgreSQL
	scripts/test

bench: ## speed benchmarks (figures, not pass/fail)
	scripts/bootstrap && .venv/bin/python benchmarks/pk.py
