"""How each kind of activity reads, in one place: the feed's `summary`, and later digest lines
and agenda items, rendered when read from the facts stored at the time (`Activity.data`).

A new verb is one entry in `VERBS`, naming the facts it is described from; `facts` (which
`record` uses) refuses a verb that has none, and a fact it does not read. A line never names
the actor (the reader sees who did it beside it, when anonymity allows); an excerpt (of a
comment, say) is separate, so a digest that must leave excerpts out simply does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from network.measures import spc

Facts = Mapping[str, Any]


def _quoted(facts: Facts, name: str) -> str:
    return f"“{facts.get(name, '')}”"


def _title(facts: Facts) -> str:
    return _quoted(facts, "title")


def _signal(facts: Facts) -> str:
    """A measure's special-cause signal: what it shows, for whom, and which rules fired."""
    series = _quoted(facts, "practice") if facts.get("practice") else "the network"
    rules = spc.rule_words(facts.get("rules"))
    return (
        f"{_quoted(facts, 'measure')} shows special-cause "
        f"{spc.variation_words(facts.get('variation'))} for {series} in {_title(facts)}"
        f"{f': {rules}' if rules else ''}"
    )


def _status(facts: Facts) -> str:
    return str(facts.get("status", "")).replace("_", " ")


@dataclass(frozen=True)
class Verb:
    line: Callable[[Facts], str]  # the line describing it, from its facts
    facts: frozenset[str]  # the facts it is described from (each optional)


def _verb(line: Callable[[Facts], str], *facts: str) -> Verb:
    return Verb(line, frozenset(facts))


VERBS: dict[str, Verb] = {
    # problems (thread: the problem)
    "posted": _verb(lambda f: f"posted {_title(f)}", "title", "excerpt"),
    "edited": _verb(lambda f: f"edited {_title(f)}", "title"),
    "status_changed": _verb(lambda f: f"marked {_title(f)} {_status(f)}", "title", "status"),
    "deleted": _verb(lambda f: f"removed {_title(f)}", "title"),
    "signalled": _verb(lambda f: f"a practice has {_title(f)} too", "title"),
    "withdrew": _verb(lambda f: f"a practice no longer has {_title(f)}", "title"),
    "comment": _verb(lambda f: f"commented on {_title(f)}", "title", "excerpt"),
    "idea": _verb(lambda f: f"suggested an idea on {_title(f)}", "title", "excerpt"),
    "accepted": _verb(lambda f: f"accepted an idea: {_title(f)} is solved", "title"),
    # workstreams (thread: the workstream; its practice shown beside the actor)
    "workstream_created": _verb(lambda f: f"started the workstream {_title(f)}", "title"),
    "workstream_edited": _verb(lambda f: f"edited the workstream {_title(f)}", "title"),
    "practice_joined": _verb(
        lambda f: f"{_quoted(f, 'practice')} joined {_title(f)}", "title", "practice"
    ),
    "practice_left": _verb(
        lambda f: f"{_quoted(f, 'practice')} left {_title(f)}", "title", "practice"
    ),
    "problem_linked": _verb(
        lambda f: f"took on {_quoted(f, 'problem')} in {_title(f)}", "title", "problem"
    ),
    "problem_unlinked": _verb(
        lambda f: f"let {_quoted(f, 'problem')} go from {_title(f)}", "title", "problem"
    ),
    "action_added": _verb(
        lambda f: f"added the action {_quoted(f, 'action')} to {_title(f)}", "title", "action"
    ),
    "action_updated": _verb(
        lambda f: f"changed the action {_quoted(f, 'action')} in {_title(f)}", "title", "action"
    ),
    "action_done": _verb(
        lambda f: f"completed {_quoted(f, 'action')} in {_title(f)}", "title", "action"
    ),
    "action_dropped": _verb(
        lambda f: f"dropped {_quoted(f, 'action')} in {_title(f)}", "title", "action"
    ),
    "action_reopened": _verb(
        lambda f: f"reopened {_quoted(f, 'action')} in {_title(f)}", "title", "action"
    ),
    "checked_in": _verb(lambda f: f"checked in on {_title(f)}", "title", "excerpt"),
    "meeting_scheduled": _verb(
        lambda f: f"arranged a huddle of {_title(f)} on {f.get('when', '')}", "title", "when"
    ),
    "meeting_held": _verb(
        lambda f: f"wrote up the huddle of {_title(f)} on {f.get('when', '')}", "title", "when"
    ),
    "meeting_cancelled": _verb(
        lambda f: f"cancelled the huddle of {_title(f)} on {f.get('when', '')}", "title", "when"
    ),
    "meeting_updated": _verb(
        lambda f: f"changed the huddle of {_title(f)} on {f.get('when', '')}", "title", "when"
    ),
    # the series' latest point (`period`) completed it; `series` is the practice's id, or
    # null for the network's own series
    "measure_signal": _verb(
        _signal, "title", "measure", "practice", "series", "variation", "rules", "period"
    ),
    # library entries (thread: the entry); nothing is recorded while an entry is a draft
    "library_published": _verb(
        lambda f: f"published {_title(f)} in the library", "title", "version"
    ),
    "library_updated": _verb(
        lambda f: f"published version {f.get('version', '')} of {_title(f)}",
        "title",
        "version",
        "excerpt",
    ),
    "library_withdrawn": _verb(
        lambda f: f"withdrew {_title(f)} from the library", "title", "excerpt"
    ),
    "library_adoption": _verb(
        lambda f: f"{_quoted(f, 'practice')} marked {_title(f)} {_status(f)}",
        "title",
        "practice",
        "status",
        "excerpt",
    ),
}


def facts(verb: str, **values: Any) -> dict[str, Any]:
    """The facts to store for an activity: refuses a verb without a description, or a fact its
    description does not read (services and the bench generator both build them here)."""
    if verb not in VERBS:
        raise ValueError(f"no description for the activity verb {verb!r}")
    unknown = set(values) - VERBS[verb].facts
    if unknown:
        raise ValueError(f"{verb!r} is not described from {', '.join(sorted(unknown))}")
    return values


def describe(verb: str, data: Facts, *, excerpts: bool) -> str:
    """One line for an activity; with `excerpts`, followed by what was written (a comment's
    excerpt), when the activity has one."""
    line = VERBS[verb].line(data) if verb in VERBS else verb.replace("_", " ")
    excerpt = data.get("excerpt") if excerpts else None
    return f"{line}: {excerpt}" if excerpt else line
