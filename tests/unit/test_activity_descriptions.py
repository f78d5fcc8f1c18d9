"""Descriptions of activity: one place, per verb, from the facts stored at the time."""

import importlib.util
from pathlib import Path

import pytest

from network.activity.descriptions import VERBS, describe, facts


def test_a_verb_without_a_description_is_refused():
    with pytest.raises(ValueError, match="no description"):
        facts("teleported", title="x")


def test_a_fact_the_description_does_not_read_is_refused():
    """Nothing is stored that no description shows (an author's name, say)."""
    with pytest.raises(ValueError, match="author"):
        facts("posted", title="x", author="Dr Ana Jones")


def test_excerpts_can_be_left_out():
    data = facts("comment", title="Letters", excerpt="We batch them at noon.")
    assert (
        describe("comment", data, excerpts=True) == "commented on “Letters”: We batch them at noon."
    )
    assert describe("comment", data, excerpts=False) == "commented on “Letters”"


def test_an_unknown_verb_from_a_newer_release_still_reads():
    assert describe("check_in_posted", {"title": "x"}, excerpts=False) == "check in posted"


def test_rows_migrated_from_prose_read_as_their_prose_did():
    """Migration 0013 reads each verb's old prose back into facts: every verb it knows renders
    the very same prose again, so the feed's summaries do not change."""
    path = (
        Path(__file__).parents[2] / "network/migrations/versions/0013_activity_threads_and_facts.py"
    )
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    title = "Letters “quoted” — and more"
    for verb, prose in migration.PROSE.items():
        written = prose.format(title=title, status="in workstream")
        data = migration.facts(verb, written, "a newer title", None, None)
        assert data["title"] == title
        assert verb in VERBS
        assert describe(verb, data, excerpts=False) == written
