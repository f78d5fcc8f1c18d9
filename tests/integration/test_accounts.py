"""The account lifecycle: invitation links, forgotten passwords, password rules, ending sign-ins."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from api.cli import main
from network.db import utcnow
from network.errors import Invalid, NotFound
from network.people import services as people
from network.signin import clients as signin
from network.signin import passwords, refresh_tokens, totp
from network.signin.models import AccountLink, AccountLinkPurpose, RefreshToken
from network.uow import UnitOfWork
from tests import factories

STRONG = "plum kettle orbit saddle"


@pytest.fixture
def uow(session):
    """A unit of work over the test's own session, so fixtures and services share it."""
    return UnitOfWork(lambda: session)


def test_a_link_sets_the_password_once(uow):
    person = factories.person(uow.session, name="Ana Gomez")
    token = passwords.issue_link(uow, person, AccountLinkPurpose.invitation)
    passwords.redeem_link(uow, token, STRONG)
    assert passwords.authenticate(uow, person.email, STRONG).id == person.id
    with pytest.raises(NotFound):
        passwords.redeem_link(uow, token, "another long passphrase here")


def test_a_newer_link_voids_the_older_one(uow):
    person = factories.person(uow.session)
    old = passwords.issue_link(uow, person, AccountLinkPurpose.password_reset)
    passwords.issue_link(uow, person, AccountLinkPurpose.password_reset)
    with pytest.raises(NotFound):
        passwords.open_link(uow, old)


def test_an_expired_link_does_not_work(uow):
    person = factories.person(uow.session)
    token = passwords.issue_link(uow, person, AccountLinkPurpose.password_reset)
    link = uow.session.scalar(select(AccountLink).where(AccountLink.person_id == person.id))
    link.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(NotFound):
        passwords.open_link(uow, token)


@pytest.mark.parametrize(
    "password",
    ["short", "password1234", "Ana Gomez 2026", "qwertyuiopasdf", "aaaaaaaaaaaaaaaa"],
)
def test_short_common_or_guessable_passwords_are_refused(uow, password):
    person = factories.person(uow.session, name="Ana Gomez", email="ana.gomez@example.org")
    with pytest.raises(Invalid) as refused:
        passwords.check_password_strength(password, person)
    assert refused.value.field == "password"


def test_a_strong_passphrase_is_accepted(uow):
    passwords.check_password_strength(STRONG, factories.person(uow.session))


def _refresh_tokens(uow, person):
    client, _ = signin.create_client(
        uow, name="SPA", redirect_uris=["https://spa.example/cb"], confidential=False
    )
    return [
        refresh_tokens.save_refresh_token(
            uow,
            token=f"t{i}-{person.id}",
            client_id=client.client_id,
            person_id=person.id,
            scope="",
        )
        for i in range(2)
    ]


def test_removing_the_last_membership_revokes_refresh_tokens(uow, net):
    from network.access import load_principal

    leaver = factories.person(uow.session, member_of=net.practice1)
    stayer = factories.person(uow.session, member_of=net.practice1)
    factories.membership(uow.session, stayer, net.practice2)
    tokens = _refresh_tokens(uow, leaver) + _refresh_tokens(uow, stayer)
    admin = load_principal(uow.session, net.admins["pcn1"])
    people.remove_member(uow, admin, net.practice1.id, leaver.id)
    people.remove_member(uow, admin, net.practice1.id, stayer.id)
    for token in tokens:
        uow.session.refresh(token)
    assert all(t.revoked_at is not None for t in tokens[:2])
    assert all(t.revoked_at is None for t in tokens[2:]), "still a member elsewhere"


def test_deactivating_revokes_refresh_tokens_and_refuses_sign_in(uow):
    person = factories.person(uow.session)
    person.password_hash = signin.hash_password(STRONG)
    tokens = _refresh_tokens(uow, person)
    people.deactivate(uow, person.email)
    assert all(uow.session.get(RefreshToken, t.id).revoked_at is not None for t in tokens)
    with pytest.raises(passwords.SignInFailed):
        passwords.authenticate(uow, person.email, STRONG)


def test_totp_is_required_once_enabled_and_superusers_must_use_it(uow):
    person = factories.person(uow.session, is_superuser=True)
    person.password_hash = signin.hash_password(STRONG)
    with pytest.raises(passwords.SignInFailed) as refused:
        passwords.authenticate(uow, person.email, STRONG)
    assert "two-step" in refused.value.message
    secret, uri = totp.start_totp(uow, person)
    assert uri.startswith("otpauth://totp/")
    totp.confirm_totp(uow, person, pyotp.TOTP(secret).now())
    with pytest.raises(passwords.SignInFailed):
        passwords.authenticate(uow, person.email, STRONG)
    with pytest.raises(passwords.SignInFailed):
        passwords.authenticate(uow, person.email, STRONG, "000000")
    assert (
        passwords.authenticate(uow, person.email, STRONG, pyotp.TOTP(secret).now()).id == person.id
    )


def test_the_cli_registers_clients(app):
    runner = app.test_cli_runner()
    public = runner.invoke(
        main, ["clients", "create", "--name", "SPA", "--redirect-uri", "https://spa.example/cb"]
    )
    assert public.exit_code == 0 and re.match(r"^client_id: \S+\n$", public.output)
    confidential = runner.invoke(
        main,
        [
            "clients",
            "create",
            "--name",
            "Reports",
            "--redirect-uri",
            "https://r.example/cb",
            "--confidential",
        ],
    )
    assert "client_secret: " in confidential.output
    bad = runner.invoke(
        main, ["clients", "create", "--name", "X", "--redirect-uri", "http://evil.example/cb"]
    )
    assert bad.exit_code != 0 and "https" in bad.output


def test_seed_demo_registers_the_demo_app_client(app):
    result = app.test_cli_runner().invoke(main, ["seed", "demo"])
    assert "demo app client_id: commons-demo-spa" in result.output


def test_the_cli_sets_up_totp_and_deactivates(app, session):
    person = factories.person(session, email="ops@example.org", is_superuser=True)
    runner = app.test_cli_runner()
    started = runner.invoke(main, ["users", "mfa", "ops@example.org"])
    secret = re.search(r"secret: (\S+)", started.output).group(1)
    confirmed = runner.invoke(
        main, ["users", "mfa", "ops@example.org", "--code", pyotp.TOTP(secret).now()]
    )
    assert confirmed.exit_code == 0 and "on for ops@example.org" in confirmed.output
    session.refresh(person)
    assert person.totp_enabled
    assert runner.invoke(main, ["users", "deactivate", "ops@example.org"]).exit_code == 0
    session.refresh(person)
    assert person.is_active is False
    assert runner.invoke(main, ["users", "deactivate", "nobody@example.org"]).exit_code != 0
