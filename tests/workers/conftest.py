"""What the mail tests share: an app whose jobs run inline and write to a fresh outbox, and the
outbox read back as parsed messages."""

import email
from dataclasses import dataclass, replace
from email import policy

import pytest
from flask.testing import FlaskClient

from api.app import create_app
from network.config import Settings
from tests import factories


def read_outbox(settings: Settings) -> list[email.message.EmailMessage]:
    if not settings.outbox_path.exists():
        return []
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(settings.outbox_path.glob("*.eml"))
    ]


@dataclass
class Mailing:
    settings: Settings
    client: FlaskClient
    app: object

    def as_(self, person) -> dict[str, str]:
        return {"Authorization": f"Bearer {factories.token(self.app, person)}"}


@pytest.fixture
def mailing(settings, tmp_path, session_factory) -> Mailing:
    inline = replace(settings, redis_url=None, instance_path=tmp_path / "instance")
    app = create_app(inline, session_factory=session_factory)
    return Mailing(inline, app.test_client(), app)
