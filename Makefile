# The two commands of the README: `make run` and `make test`. Both build .venv/ on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/commons
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?= -n 2 --dist loadgroup
# Tokens name the API's URL as their issuer, and that follows PORT: show it when not the default.
TOKEN_ENV := $(if $(filter-out 5000,$(PORT)),PORT=$(PORT) ,)

.PHONY: install run test test-sqlite test-postgres lint format openapi clients clients-lock lock bench bench-national bench-digests clean

install: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(BIN)/commons db upgrade
	$(BIN)/commons seed demo
	@echo ""
	@echo "Commons is starting on http://127.0.0.1:$(PORT) (API docs: http://127.0.0.1:$(PORT)/api/v1/docs)"
	@echo "Get an access token for the demo clinical director and call the API:"
	@echo "  TOKEN=\$$($(TOKEN_ENV)$(BIN)/commons token amira.patel@demo.example)"
	@echo "  curl -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$(PORT)/api/v1/me"
	@echo "Or sign in from the demo app at http://localhost:5173 (client_id commons-demo-spa, OpenID"
	@echo "Connect discovery at http://127.0.0.1:$(PORT)/.well-known/openid-configuration) as any demo"
	@echo "person, e.g. amira.patel@demo.example, password: riverside-demo-password"
	@echo ""
	PORT=$(PORT) $(BIN)/commons run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite; with CI=true also on PostgreSQL and real Redis (a missing service fails).
test: install lint test-sqlite
ifeq ($(CI),true)
test: test-postgres
endif

test-sqlite: install
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: install
	$(BIN)/commons openapi write openapi/openapi.json

# Clients generated from openapi/openapi.json compile: TypeScript (openapi-typescript, tsc --strict)
# and Python (openapi-python-client, in a venv of its own). Part of `make test` too.
CLIENTS := tests/contract/clients
clients: install
	$(BIN)/pytest -q -p no:cacheprovider tests/contract/test_generated_clients.py

# Re-pin the client generators after changing $(CLIENTS)/package.json or requirements.in.
clients-lock: install
	cd $(CLIENTS) && npm install --no-audit --no-fund --package-lock-only
	$(BIN)/uv pip compile $(CLIENTS)/requirements.in --universal --generate-hashes \
		--python-version 3.11 -o $(CLIENTS)/requirements.txt -q

# The hot-list benchmark on PostgreSQL (seeds scales S and L once): benchmarks/RESULTS.md.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/commons
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/hot_list.py $(BENCH_ARGS)

# Issue 22's budgets in one command (about 15 minutes, and the seeds once: N several minutes):
# at scale N the hot list read by 1,000 readers of 1,000 practices while 20 writes a second land
# in other federations and 2 in the readers' own PCNs, the uncached hot list against SQL, the new
# pages; then the digests of scale L's Monday cohort. Each prints its verdicts; the command fails
# (after running both) when any budget was missed.
bench-national: install
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python benchmarks/hot_list.py --scales N \
		--readers 1000 --write-rates '' --writes-elsewhere 20 --writes-near 2 $(BENCH_ARGS); \
	reads=$$?; \
	$(BIN)/python benchmarks/digests.py --database-url $(BENCH_DIGESTS_DATABASE_URL) \
		--redis-url $(BENCH_DIGESTS_REDIS_URL) $(BENCH_DIGESTS_ARGS); \
	digests=$$?; \
	if [ $$reads -ne 0 ] || [ $$digests -ne 0 ]; then echo "bench-national: a budget was missed (see the verdicts above)"; exit 1; fi

# Digests at scale L (issue 22, point 3): the Monday 07:00 cohort of Bench Federation L (seeded
# by `commons seed bench --scale L` into commons_bench_l) sent by 1, then 2 RQ workers to a
# local SMTP server (Postfix's smtp-sink when installed, else aiosmtpd; --sink chooses); Redis
# database 5 of REDIS_URL's server is the benchmark's own.
BENCH_DIGESTS_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/commons_bench_l
BENCH_DIGESTS_REDIS_URL ?= redis://127.0.0.1:6379/5
BENCH_DIGESTS_ARGS ?=
bench-digests: install
	$(BIN)/python benchmarks/digests.py --database-url $(BENCH_DIGESTS_DATABASE_URL) \
		--redis-url $(BENCH_DIGESTS_REDIS_URL) $(BENCH_DIGESTS_ARGS)

# Re-pin every dependency after changing pyproject.toml.
lock: install
	$(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 -o requirements.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --generate-hashes --python-version 3.11 -o requirements-dev.lock -q

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
