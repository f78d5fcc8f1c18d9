"""Settings read from the environment, with the embedded defaults of a single machine."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _database_url(raw: str) -> str:
    """Accept the URL forms operators write and select the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _seconds(env, name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of seconds, at least 1 (got {raw!r})")
    return int(raw)


def _delays(raw: str | None) -> tuple[int, ...] | None:
    """`JOB_RETRY_DELAYS`: comma-separated seconds (`10,60,300`); `none` for no retries."""
    if not raw:
        return None
    if raw.strip().lower() == "none":
        return ()
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() for p in parts) or len(parts) > 10:
        raise ValueError(
            f"JOB_RETRY_DELAYS must be up to 10 comma-separated whole seconds (got {raw!r})"
        )
    return tuple(int(p) for p in parts)


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None
    mail_url: str | None
    mail_from: str
    api_url: str
    public_url: str
    signing_key_file: Path
    secret_key: str | None
    cors_origins: tuple[str, ...]
    oidc_issuers: str | None
    # How many reverse proxies in front set X-Forwarded-For/-Proto (0: none, trust no header).
    trusted_proxies: int = 0
    # Read results each API process remembers while the content version stands (0: none).
    read_cache_size: int = 4096
    # How long one digest job may run; a claim older than this is taken over by the next run.
    digest_job_timeout: int = 300
    # Waits (seconds) between retries of a job that failed for a temporary reason; None: each
    # queue's own (`dispatch.queues.SPECS`).
    job_retry_delays: tuple[int, ...] | None = None
    # Without SIGNING_KEY_FILE a key is generated into instance/ on first use; an operator's
    # file must exist (`commons keys rotate` creates it).
    generate_signing_key: bool = True

    @property
    def issuer(self) -> str:
        return self.api_url

    @property
    def audience(self) -> str:
        return self.api_url + "/api/v1"

    def secret(self) -> str:
        """SECRET_KEY, or in the embedded default one generated once into instance/ (production
        sets one). Sessions and unsubscribe links are made with it; signing keys rotate
        separately (`commons keys rotate`) and never change it."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_path / "secret-key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def outbox_path(self) -> Path:
        return self.instance_path / "outbox"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
        port = env.get("PORT") or "5000"
        api_url = (env.get("API_URL") or f"http://127.0.0.1:{port}").rstrip("/")
        return cls(
            instance_path=instance,
            database_url=_database_url(
                env.get("DATABASE_URL") or f"sqlite:///{instance / 'commons.db'}"
            ),
            redis_url=env.get("REDIS_URL") or None,
            mail_url=env.get("MAIL_URL") or None,
            mail_from=env.get("MAIL_FROM") or "Commons <commons@localhost>",
            api_url=api_url,
            public_url=(env.get("PUBLIC_URL") or api_url).rstrip("/"),
            signing_key_file=Path(env.get("SIGNING_KEY_FILE") or instance / "signing-keys.json"),
            secret_key=env.get("SECRET_KEY") or None,
            cors_origins=tuple(
                o.strip() for o in (env.get("CORS_ORIGINS") or "").split(",") if o.strip()
            ),
            oidc_issuers=env.get("OIDC_ISSUERS") or None,
            generate_signing_key=not env.get("SIGNING_KEY_FILE"),
            trusted_proxies=int(env.get("TRUSTED_PROXIES") or 0),
            read_cache_size=int(env.get("READ_CACHE_SIZE") or 4096),
            digest_job_timeout=_seconds(env, "DIGEST_JOB_TIMEOUT", 300),
            job_retry_delays=_delays(env.get("JOB_RETRY_DELAYS")),
        )
