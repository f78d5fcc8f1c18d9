"""Jobs: thin — open a unit of work, call network services, hand mail to the transport."""

from __future__ import annotations

import logging

from dispatch import runtime
from network.organisations.models import Organisation
from network.people.models import Person
from network.signin import passwords as signin
from network.signin.models import AccountLinkPurpose
from workers import mail

log = logging.getLogger("commons.jobs")


def send_invitation(person_id: int, organisation_id: int) -> str | None:
    """Tell a person they have been added to an organisation; a person without a password
    yet gets a single-use link to set one."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        person = uow.session.get(Person, person_id)
        organisation = uow.session.get(Organisation, organisation_id)
        if person is None or organisation is None or not person.is_active:
            log.info("invitation not sent: person or organisation gone")
            return None
        lines = [
            f"Hello {person.name},",
            "",
            f"You have been added to {organisation.name} on Commons, the shared space of your",
            "primary care network.",
            "",
        ]
        if person.password_hash is None:
            token = signin.issue_link(uow, person, AccountLinkPurpose.invitation)
            lines += [
                "Choose your password here (the link works once, for 7 days):",
                f"{settings.api_url}/account/set-password?token={token}",
                "",
            ]
        lines.append(f"Open Commons: {settings.public_url}")
        message = mail.new_message(
            settings,
            to=person.email,
            subject=f"You have been added to {organisation.name}",
            text="\n".join(lines) + "\n",
        )
        uow.commit()
    return mail.send(settings, message)


def send_account_link(person_id: int, purpose: str) -> str | None:
    """Email a single-use link to choose a new password."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        person = uow.session.get(Person, person_id)
        if person is None or not person.is_active:
            return None
        token = signin.issue_link(uow, person, AccountLinkPurpose(purpose))
        text = (
            f"Hello {person.name},\n\n"
            "Someone (we hope you) asked to reset your Commons password. Choose a new one here;\n"
            "the link works once, for one hour:\n"
            f"{settings.api_url}/account/set-password?token={token}\n\n"
            "If it was not you, ignore this email: your password has not changed.\n"
        )
        message = mail.new_message(
            settings, to=person.email, subject="Reset your Commons password", text=text
        )
        uow.commit()
    return mail.send(settings, message)
