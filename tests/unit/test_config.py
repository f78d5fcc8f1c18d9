from pathlib import Path

from network.config import Settings


def test_embedded_defaults_live_under_instance():
    settings = Settings.from_env({"INSTANCE_PATH": "/srv/x"})
    assert settings.database_url == "sqlite:////srv/x/commons.db"
    assert settings.signing_key_file == Path("/srv/x/signing-keys.json")
    assert settings.redis_url is None and settings.mail_url is None
    assert settings.api_url == "http://127.0.0.1:5000"
    assert settings.outbox_path == Path("/srv/x/outbox")


def test_api_url_follows_port_and_public_url_defaults_to_it():
    settings = Settings.from_env({"PORT": "8080"})
    assert settings.api_url == "http://127.0.0.1:8080"
    assert settings.public_url == settings.api_url
    assert settings.audience == "http://127.0.0.1:8080/api/v1"


def test_postgres_urls_select_psycopg_3():
    for raw in ("postgres://u@h/db", "postgresql://u@h/db"):
        assert (
            Settings.from_env({"DATABASE_URL": raw}).database_url == "postgresql+psycopg://u@h/db"
        )


def test_cors_origins_are_a_comma_separated_list():
    settings = Settings.from_env({"CORS_ORIGINS": "https://a.example, https://b.example,"})
    assert settings.cors_origins == ("https://a.example", "https://b.example")
