"""The WSGI application for gunicorn: `gunicorn api.wsgi:app`."""

import gc

from api.app import create_app

app = create_app()

# What is loaded by now (Flask, SQLAlchemy's mappers, the schemas, the OpenAPI spec: some
# 250,000 objects) lives as long as the process. Frozen, the cyclic garbage collector's full
# collections no longer walk it: each one took ~120 ms, a pause for whichever requests the
# process was serving (benchmarks/RESULTS.md: the hot list's p99 while the country writes).
gc.freeze()
