"""What the demo network has been doing: shared problems on North Riverside PCN's board, a
practice's private one, and the "Workflow" workstream with a few weeks of history — practices
taking part, actions (one of them overdue), check-ins, the last two huddles written up. Written
through the services, as people would, so counts and activity are what the product keeps; then
moved back in time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from network.access import load_principal
from network.activity.models import Activity
from network.db import utcnow
from network.library import services as library
from network.library.models import AdoptionStatus, EntryStatus
from network.measures import services as measure_services
from network.measures.models import Better
from network.organisations.models import Organisation
from network.people.models import Membership, Person
from network.preconditions import ANY_VERSION
from network.problems import services as problems
from network.problems.models import AffectedPractice, CommentKind, Problem
from network.uow import UnitOfWork
from network.workstreams import actions, huddles
from network.workstreams import meetings as meeting_rules
from network.workstreams import queries as workstream_queries
from network.workstreams import services as workstreams
from network.workstreams.models import (
    Action,
    ActionStatus,
    CheckIn,
    LinkedProblem,
    Meeting,
    MeetingStatus,
    Participation,
    Workstream,
    WorkstreamStatus,
)

DEMO_PCN = "North Riverside PCN"

# (practice of the author, title, body, practices that say "we have this too")
SHARED_PROBLEMS = [
    (
        "Castle Street Surgery",
        "Clinical correspondence lands on GPs",
        "Every hospital letter goes to a GP's inbox, including the ones that need no clinical "
        "action. Our GPs spend **an hour a day** on them.",
        ["Millbrook Medical Centre", "Oakfield Practice"],
    ),
    (
        "Millbrook Medical Centre",
        "Discharge summaries arrive as five separate documents",
        "One discharge becomes five PDFs in the workflow queue, each coded by hand.",
        ["Castle Street Surgery"],
    ),
    (
        "Oakfield Practice",
        "Repeat prescription requests by phone at 8am",
        "The phone queue at 8am is half prescription requests that could come online.",
        ["Castle Street Surgery", "Millbrook Medical Centre"],
    ),
]
PRIVATE_PROBLEM = (
    "Castle Street Surgery",
    "Our scanning backlog is three weeks",
    "Only one administrator scans, and she is on leave in December.",
)


def _person(uow: UnitOfWork, email: str) -> Person:
    return uow.session.scalars(select(Person).where(Person.email == email)).one()


def _staff(uow: UnitOfWork, practice: Organisation, group: str) -> Person:
    return uow.session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == practice.id, Person.staff_group == group)
        .order_by(Person.id)
    ).first() or _missing(practice, group)


def _missing(practice: Organisation, group: str) -> Person:
    raise LookupError(f"the demo has no {group} at {practice.name}")


def seed_demo_content(
    uow: UnitOfWork, practices: dict[str, Organisation], pcn: Organisation, director_email: str
) -> Workstream:
    """The problems and the Workflow workstream of `pcn`, started by its clinical director."""
    director = _person(uow, director_email)
    as_director = load_principal(uow.session, director)

    def principal_of(practice: str, group: str = "gp"):
        return load_principal(uow.session, _staff(uow, practices[practice], group))

    posted = []
    for author_practice, title, body, others in SHARED_PROBLEMS:
        problem = problems.create(
            uow, principal_of(author_practice), board_id=pcn.id, title=title, body=body
        )
        for other in others:
            problems.signal_affected(uow, principal_of(other, "management"), problem.id)
        posted.append(problem)
    _shared_weeks_ago(uow, [p.id for p in posted])
    practice, title, body = PRIVATE_PROBLEM
    problems.create(
        uow,
        principal_of(practice, "management"),
        board_id=practices[practice].id,
        title=title,
        body=body,
    )

    workstream = workstreams.create(
        uow,
        as_director,
        organisation_id=pcn.id,
        title="Workflow",
        purpose="Take clinical correspondence off GPs: trained administrators code and file "
        "the letters that need no clinical action.",
        aim="Give each GP 40 minutes a day back by the end of March.",
        lead_id=director.id,
        problem_ids=[posted[0].id],
        meeting_rule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=12;BYMINUTE=30",
    )
    for name in ("Castle Street Surgery", "Millbrook Medical Centre", "Oakfield Practice"):
        workstreams.join(uow, as_director, workstream.id, practices[name].id)
    workstreams.update(
        uow,
        as_director,
        workstream.id,
        if_match=ANY_VERSION,
        status=WorkstreamStatus.active,
    )
    today = workstream_queries.today()
    planned = [
        ("Castle Street Surgery", "management", "Write the letter-coding protocol", -10, True),
        ("Millbrook Medical Centre", "management", "Train two administrators to code", -3, False),
        ("Oakfield Practice", "management", "Count letters per GP per day for a week", 4, False),
        ("Castle Street Surgery", "gp", "Review a week of coded letters", 9, False),
    ]
    for practice_name, group, title, days, done in planned:
        owner = principal_of(practice_name, group)
        action = actions.add_action(
            uow,
            owner,
            workstream.id,
            title=title,
            owner_id=owner.person_id,
            due_on=today + timedelta(days=days),
        )
        if done:
            actions.update_action(uow, owner, workstream.id, action.id, status=ActionStatus.done)
    check_ins = [
        ("Castle Street Surgery", "The protocol is drafted: 14 letter types need no GP."),
        ("Millbrook Medical Centre", "Both administrators start training on Monday."),
        ("Oakfield Practice", "Counting starts this week; the GPs are keen."),
    ]
    for practice_name, body in check_ins:
        actions.add_check_in(
            uow, principal_of(practice_name, "management"), workstream.id, body=body
        )
    uow.session.flush()
    _move_back(uow, workstream)
    _letters_measure(uow, as_director, workstream, practices)
    _two_huddles(
        uow,
        as_director,
        workstream,
        practices,
        principal_of("Millbrook Medical Centre", "management"),
    )
    _library(uow, posted[1], principal_of, practices, pcn)
    return workstream


def _library(
    uow: UnitOfWork,
    discharge: Problem,
    principal_of,
    practices: dict[str, Organisation],
    pcn: Organisation,
) -> None:
    """Two published entries: the discharge problem's accepted idea, promoted by its author and
    taken up by North Riverside's practices (one of which stopped), and the federation's online
    repeat-prescription protocol."""
    castle, millbrook, oakfield = (
        "Castle Street Surgery",
        "Millbrook Medical Centre",
        "Oakfield Practice",
    )
    idea = problems.add_comment(
        uow,
        principal_of(castle),
        discharge.id,
        body="We asked the trust's EPR team to send **one combined PDF** per discharge, with "
        "the medication changes on page one. It took two emails and a call.",
        kind=CommentKind.idea,
    )
    author = principal_of(millbrook)
    problems.accept_idea(uow, author, discharge.id, idea.id)
    entry = library.promote(uow, author, problem_id=discharge.id)
    library.update(
        uow,
        author,
        entry.id,
        if_match=ANY_VERSION,
        title="One combined discharge PDF from the trust",
        summary="Ask the trust's EPR team for one PDF per discharge, medication changes first: "
        "one document to code instead of five.",
        tags=["discharge", "workflow"],
        change_note="Retitled as a protocol.",
    )
    library.update(
        uow,
        author,
        entry.id,
        if_match=ANY_VERSION,
        body=entry.body.rstrip() + "\n\n## Steps\n\n"
        "1. Email the trust's EPR team: one PDF per discharge, medication changes first.\n"
        "2. Agree a start date; keep the old route for a fortnight.\n"
        "3. Check a week of discharges: one PDF each, medication changes on page one.\n",
        review_by=workstream_queries.today() + timedelta(days=180),
        change_note="Added the steps.",
    )
    library.update(
        uow,
        author,
        entry.id,
        if_match=ANY_VERSION,
        status=EntryStatus.published,
        change_note="Published for North Riverside's practices.",
    )
    for practice, status, note in (
        (millbrook, AdoptionStatus.adopted, None),
        (castle, AdoptionStatus.adapted, "We also ask for the GP practice code in the file name."),
        (
            oakfield,
            AdoptionStatus.stopped,
            "Our discharges come from another trust, which cannot send one PDF yet.",
        ),
    ):
        library.set_adoption(
            uow,
            principal_of(practice, "management"),
            entry.id,
            practices[practice].id,
            status=status,
            note=note,
        )
    fiona = load_principal(uow.session, _person(uow, "fiona.reid@demo.example"))
    federation_id = uow.session.get_one(Organisation, pcn.id).parent_id
    assert federation_id is not None
    repeats = library.create(
        uow,
        fiona,
        organisation_id=federation_id,
        title="Online repeat prescription requests",
        summary="Move repeat requests off the 8am phone queue: online by default, the phone "
        "kept for those who need it.",
        body="## Why\n\nHalf the 8am calls are repeat requests.\n\n## How\n\n"
        "1. Switch on online requests in the clinical system.\n"
        "2. Reception offers to set it up during the call.\n"
        "3. A pharmacist reviews requests twice a day.\n",
        tags=["prescribing", "access"],
    )
    library.update(uow, fiona, repeats.id, if_match=ANY_VERSION, status=EntryStatus.published)
    for practice, status in (
        ("Harbour View Surgery", AdoptionStatus.adopted),
        (oakfield, AdoptionStatus.considering),
    ):
        library.set_adoption(
            uow,
            principal_of(practice, "management"),
            repeats.id,
            practices[practice].id,
            status=status,
        )


# Minutes per GP per day on correspondence, weekly: a little noise around each practice's
# level. Castle Street brings in its coding protocol at week 14 (the rebase) and keeps getting
# better; the others have not started.
NOISE = (2, -3, 1, 4, -2, 0, -4, 3, -1, 2, -3, 1, 0, -2, 3, -1, 2, -4, 1, 0, 3, -2, -1, 2)
LEVELS = {
    "Castle Street Surgery": (61, 46, 35),
    "Millbrook Medical Centre": (55, 55, 54),
    "Oakfield Practice": (58, 57, 58),
}
WEEKS, REBASE_WEEK, BETTER_WEEK = 33, 14, 25


def _letters_measure(uow, as_director, workstream, practices) -> None:
    """The Workflow measure with 33 weeks of points for each practice taking part."""
    today = workstream_queries.today()
    last_monday = today - timedelta(days=today.weekday() + 7)
    first = last_monday - timedelta(weeks=WEEKS - 1)
    measure = measure_services.create(
        uow,
        as_director,
        workstream.id,
        name="Minutes per GP per day on correspondence",
        unit="minutes",
        better=Better.down,
        target=40,
        rebase_periods=[first + timedelta(weeks=REBASE_WEEK)],
    )
    points = []
    for name, (before, after, later) in LEVELS.items():
        for week in range(WEEKS):
            level = before if week < REBASE_WEEK else after if week < BETTER_WEEK else later
            value = level + NOISE[(week + len(name)) % len(NOISE)]
            period = first + timedelta(weeks=week)
            points.append(measure_services.PointIn(period, float(value), practices[name].id))
    measure_services.post_points(uow, as_director, workstream.id, measure.id, points)


# The last two huddles, as the clinical director wrote them up.
HUDDLES = [
    (
        "Castle Street's protocol **drafted**: 14 letter types need no GP. Millbrook has two "
        "administrators ready to train.",
        ["Castle Street shares its protocol with the other practices"],
        ("Castle Street Surgery", "Millbrook Medical Centre", "Oakfield Practice"),
    ),
    (
        "Training at Millbrook is under way. Oakfield could not come: the phones were down.",
        [
            "Millbrook pilots coding discharge letters for a fortnight",
            "Ask the LMC whether administrators may code medication changes",
        ],
        ("Castle Street Surgery", "Millbrook Medical Centre"),
    ),
]


def _two_huddles(uow, as_director, workstream, practices, pilot_owner) -> None:
    """The last two Tuesday huddles, held and written up; the first decision of the last one
    made an action for Millbrook. Their activity is dated when they ended."""
    now = utcnow()
    past = meeting_rules.occurrences(workstream, now - timedelta(days=15), now)[-2:]
    for occurrence, (notes, decisions, there) in zip(past, HUDDLES, strict=True):
        meeting = huddles.create_meeting(
            uow,
            as_director,
            workstream.id,
            starts_at=occurrence.starts_at,
            status=MeetingStatus.held,
            notes=notes,
            decisions=decisions,
            attended_practice_ids=[practices[name].id for name in there],
        )
        uow.session.execute(
            update(Activity)
            .where(Activity.subject_type == "meeting", Activity.subject_id == meeting.id)
            .values(at=occurrence.ends_at)
        )
        uow.session.execute(
            update(Meeting)
            .where(Meeting.id == meeting.id)
            .values(created_at=occurrence.ends_at, updated_at=occurrence.ends_at)
        )
    actions.action_from_decision(
        uow,
        as_director,
        workstream.id,
        meeting.id,
        0,
        owner_id=pilot_owner.person_id,
        practice_id=practices["Millbrook Medical Centre"].id,
    )


def _shared_weeks_ago(uow: UnitOfWork, problem_ids: list[int]) -> None:
    """The shared problems were posted, and other practices said they have them too, about
    four weeks ago (before the workstream took one on), a day apart."""
    now = utcnow()
    for n, problem_id in enumerate(problem_ids):
        at = now - timedelta(days=28 - n)
        uow.session.execute(
            update(Problem)
            .where(Problem.id == problem_id)
            .values(created_at=at, updated_at=at, last_activity_at=at)
        )
        uow.session.execute(
            update(AffectedPractice)
            .where(AffectedPractice.problem_id == problem_id)
            .values(created_at=at)
        )
        uow.session.execute(
            update(Activity)
            .where(Activity.thread_type == "problem", Activity.thread_id == problem_id)
            .values(at=at)
        )


def _move_back(uow: UnitOfWork, workstream: Workstream) -> None:
    """A few weeks of history: begun three weeks ago (the problem taken on then), the practices
    joining and the actions set the next day, the first action done two days ago, check-ins
    weekly."""
    now = utcnow()
    started, set_up, done = (now - timedelta(days=d) for d in (21, 20, 2))
    session = uow.session
    thread = (Activity.thread_type == "workstream", Activity.thread_id == workstream.id)
    session.execute(
        update(Workstream).where(Workstream.id == workstream.id).values(created_at=started)
    )
    session.execute(
        update(Participation)
        .where(Participation.workstream_id == workstream.id)
        .values(joined_at=set_up)
    )
    session.execute(
        update(LinkedProblem)
        .where(LinkedProblem.workstream_id == workstream.id)
        .values(linked_at=started)
    )
    session.execute(
        update(Action)
        .where(Action.workstream_id == workstream.id)
        .values(created_at=set_up, updated_at=set_up)
    )
    session.execute(
        update(Action)
        .where(Action.workstream_id == workstream.id, Action.status == ActionStatus.done)
        .values(completed_at=done, updated_at=done)
    )
    session.execute(update(Activity).where(*thread).values(at=set_up))
    session.execute(
        update(Activity)
        .where(*thread, Activity.verb.in_(("workstream_created", "problem_linked")))
        .values(at=started)
    )
    session.execute(update(Activity).where(*thread, Activity.verb == "action_done").values(at=done))
    ids = session.scalars(
        select(CheckIn.id).where(CheckIn.workstream_id == workstream.id).order_by(CheckIn.id)
    ).all()
    for weeks_ago, check_in_id in zip((2, 1, 0), ids, strict=True):
        at = now - timedelta(days=7 * weeks_ago, hours=3)
        session.execute(update(CheckIn).where(CheckIn.id == check_in_id).values(created_at=at))
        session.execute(
            update(Activity)
            .where(Activity.subject_type == "check_in", Activity.subject_id == check_in_id)
            .values(at=at)
        )
