"""A principal carries the chain of every organisation it belongs to, read with its
memberships: the checks a write makes on a board it reads or for its own practice (moderation
rights, the acting practice) need no further query, and agree with `chain_of`."""

from network import access
from network.organisations.models import OrganisationKind
from network.people.models import Role
from tests.factories import organisations, people


def _tree(session):
    federation = organisations.organisation(session, OrganisationKind.federation)
    pcn = organisations.organisation(session, OrganisationKind.pcn, federation)
    practice = organisations.organisation(session, OrganisationKind.practice, pcn)
    other_pcn = organisations.organisation(session, OrganisationKind.pcn, federation)
    return federation, pcn, practice, other_pcn


def test_the_principal_chains_are_those_of_the_database(session):
    federation, pcn, practice, other_pcn = _tree(session)
    person = people.person(session, member_of=practice)
    people.membership(session, person, other_pcn, Role.admin)
    principal = access.load_principal(session, person)
    assert set(principal.chains) == {federation.id, pcn.id, practice.id, other_pcn.id}
    for organisation_id, chain in principal.chains.items():
        assert list(chain) == access.chain_of(session, organisation_id)
    assert principal.chains[practice.id] == (practice.id, pcn.id, federation.id)
    assert principal.belongs == {federation.id, pcn.id, practice.id, other_pcn.id}
    assert principal.federations == {federation.id}
    assert principal.practices == {practice.id}


def test_a_write_on_a_board_it_reads_checks_rights_without_a_query(session, count_statements):
    federation, pcn, practice, other_pcn = _tree(session)
    person = people.person(session, member_of=practice)
    people.membership(session, person, other_pcn, Role.admin)
    principal = access.load_principal(session, person)
    session.info.pop("access.chains", None)  # nothing remembered by the transaction
    with count_statements() as counter:
        assert access.can_moderate(session, principal, other_pcn.id)
        assert not access.can_moderate(session, principal, pcn.id)
        assert access.acting_practice(session, principal, pcn.id) == practice.id
        assert access.acting_practice(session, principal, federation.id) == practice.id
    assert counter.count == 0, counter.statements


def test_an_organisation_it_does_not_belong_to_is_still_looked_up(session, count_statements):
    federation, pcn, practice, _other_pcn = _tree(session)
    outsider = people.person(session)
    principal = access.load_principal(session, outsider)
    assert principal.chains == {}
    session.info.pop("access.chains", None)
    with count_statements() as counter:
        assert access.known_chain(session, principal, practice.id) == [
            practice.id,
            pcn.id,
            federation.id,
        ]
    assert counter.count == 1
