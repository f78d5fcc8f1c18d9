"""Jobs: thin — open a unit of work, read through network services, hand mail to the transport."""

from __future__ import annotations

import logging

from network.organisations.models import Organisation
from network.people.models import Person
from workers import mail, runtime

log = logging.getLogger("commons.jobs")


def send_invitation(person_id: int, organisation_id: int) -> str | None:
    """Tell a person they have been added to an organisation."""
    settings = runtime.current().settings
    with runtime.unit_of_work() as uow:
        person = uow.session.get(Person, person_id)
        organisation = uow.session.get(Organisation, organisation_id)
        if person is None or organisation is None or not person.is_active:
            log.info("invitation not sent: person or organisation gone")
            return None
        text = (
            f"Hello {person.name},\n\n"
            f"You have been added to {organisation.name} on Commons, the shared space of your\n"
            f"primary care network.\n\n"
            f"Open Commons: {settings.public_url}\n"
        )
        message = mail.new_message(
            settings,
            to=person.email,
            subject=f"You have been added to {organisation.name}",
            text=text,
        )
    return mail.send(settings, message)
