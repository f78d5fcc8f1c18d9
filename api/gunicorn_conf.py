"""gunicorn's settings for the API: `gunicorn -c python:api.gunicorn_conf api.wsgi:app`
(compose and the benchmark use them; flags on the command line still win).

- One request at a time per process (`gthread` with one thread): the work of a request is
  Python, and threads in one process take turns on the GIL; processes use every core.
- `gthread` rather than `sync`: it keeps client connections open between requests (HTTP
  keep-alive, a poller watching the idle ones), where `sync` opens and closes one per request.
- As many processes as cores (`WEB_CONCURRENCY` overrides): measured on 2 cores shared with
  PostgreSQL, more processes than cores made the hot list slower (benchmarks/RESULTS.md).
- No access log: the API writes its own JSON line per request (api/logs.py).
"""

import os

worker_class = "gthread"
threads = 1
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
keepalive = 5
timeout = 30
graceful_timeout = 30
backlog = 2048
