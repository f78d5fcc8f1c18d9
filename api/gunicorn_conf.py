"""gunicorn's settings for the API: `gunicorn -c python:api.gunicorn_conf api.wsgi:app`
(compose and the benchmark use them; flags on the command line still win).

- `sync` workers, one request at a time per process: the work of a request is Python, and
  threads in one process take turns on the GIL; processes use every core.
- Why not `gthread` (which keeps connections open between requests): a connection stays with
  the process that accepted it, and nothing balances them. Measured with 16 keep-alive
  connections, in half the runs one process held all 16 while the other core idled, and the
  throughput halved (benchmarks/RESULTS.md). A sync process accepts a connection only when it
  is free, so the load spreads itself; a new connection per request costs less than that.
- Like every sync server it must sit behind a buffering proxy (the TLS-terminating proxy of
  docker-compose.yml): a slow client would otherwise hold a whole process.
- As many processes as cores (`WEB_CONCURRENCY` overrides): measured on 2 cores shared with
  PostgreSQL, more processes than cores made the hot list slower.
- No access log: the API writes its own JSON line per request (api/logs.py).
"""

import os

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
timeout = 30
graceful_timeout = 30
backlog = 2048
