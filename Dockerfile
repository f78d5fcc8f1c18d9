# syntax=docker/dockerfile:1
# The production image of Commons: gunicorn serving api.wsgi:app, plus the `commons` command
# (migrations, keys, and later the worker and scheduler) from the same image.

# --- build: resolve and install into a virtualenv that the runtime stage copies whole ---------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# The runtime stage copies /opt/venv to the same path, so its scripts' shebangs stay valid.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from the pinned, hash-checked lock: this layer is rebuilt only when the
# lock changes, and pip refuses any file whose hash is not in it.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

# Then the project itself, without resolving anything again (--no-deps): the lock is the
# complete set of dependencies.
COPY pyproject.toml README.md ./
COPY network/ network/
COPY api/ api/
COPY workers/ workers/
COPY dispatch/ dispatch/
RUN pip install --no-cache-dir --no-deps .

# --- runtime: the virtualenv, a non-root user, nothing else -----------------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INSTANCE_PATH=/var/lib/commons/instance

# /var/lib/commons/keys is where compose mounts the shared signing-key volume: Docker fills a
# new named volume from the image's directory, ownership included, so creating it here owned
# by the app user is what lets `commons keys rotate` write there without root.
# The instance directory is the embedded default's home (outbox, generated key) when an
# operator leaves MAIL_URL or SIGNING_KEY_FILE unset.
RUN groupadd --system --gid 10001 commons \
 && useradd --system --uid 10001 --gid commons --home-dir /var/lib/commons \
        --no-create-home --shell /usr/sbin/nologin commons \
 && install -d -o commons -g commons -m 0750 \
        /var/lib/commons /var/lib/commons/keys /var/lib/commons/instance

COPY --from=build /opt/venv /opt/venv

USER commons:commons
WORKDIR /var/lib/commons

EXPOSE 8000

# The API's own gunicorn settings (api/gunicorn_conf.py: sync workers, one per core).
CMD ["gunicorn", "--config", "python:api.gunicorn_conf", "--bind", "0.0.0.0:8000", "api.wsgi:app"]
