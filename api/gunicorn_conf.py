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
# gunicorn 27 opens a control socket in the user's home by default, shared by every instance
# on the machine (tests, benchmarks, several deployments); the API does not use it.
control_socket_disable = True
timeout = 30
graceful_timeout = 30
backlog = 2048

# The request line (method, target, version) up to gunicorn's maximum, 8190 bytes: the API
# serves targets up to 8 KiB (api.blueprint.MAX_REQUEST_TARGET) and answers a longer one with
# its JSON 414. Not 0: "unlimited" makes gunicorn's Python parser (gunicorn_h1c is not
# installed) buffer a request line of any length, copying the buffer on every read.
limit_request_line = 8190


def post_worker_init(worker) -> None:
    """gunicorn's own answers to requests it cannot parse (a request line over the limit: 414;
    headers too large: 431; a malformed request: 400) in the API's error body, as JSON, rather
    than gunicorn's HTML page: clients read one error format whatever refused them."""
    from gunicorn import util

    util.write_error = _write_json_error


def _write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's replacement: the same answer, in the API's error body."""
    import orjson
    from gunicorn import util
    from werkzeug.http import HTTP_STATUS_CODES

    from api.blueprint import TARGET_TOO_LONG

    status = HTTP_STATUS_CODES.get(status_int, reason)  # as the app's own errors name it
    message = TARGET_TOO_LONG if status_int == 414 else (mesg or status)
    body = orjson.dumps({"code": status_int, "status": status, "message": message})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)
