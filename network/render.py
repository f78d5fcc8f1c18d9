"""Papers people read outside the app — minutes, agendas, later digests — made from Jinja2
templates in `network/templates`: `.html` autoescaped (what was written is shown, never run),
`.txt` as written. API handlers and workers render the same templates."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from network.measures.spc import rule_words, variation_words
from network.text import LONDON, london


def london_time(at: datetime) -> str:
    return f"{at.astimezone(LONDON):%H:%M}"


def day(value: date) -> str:
    """ "Mon 7 Dec" (the year too when it is not this year's)."""
    text = f"{value:%a} {value.day} {value:%b}"
    return text if value.year == datetime.now(LONDON).year else f"{text} {value.year}"


def london_day(at: datetime) -> str:
    return day(at.astimezone(LONDON).date())


def plural(count: int, noun: str) -> str:
    """ "1 practice", "3 practices"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("network", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        london=london,
        london_time=london_time,
        london_day=london_day,
        day=day,
        plural=plural,
        variation=variation_words,
        rules=rule_words,
    )
    return env


def warm_up() -> None:
    """Compile every template now (a worker does, before it forks a process per job)."""
    env = _environment()
    for name in env.list_templates():
        if not name.startswith("_"):
            env.get_template(name)


def render(template: str, **context: object) -> str:
    return _environment().get_template(template).render(**context)
