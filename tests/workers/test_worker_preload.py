"""What a worker loads before RQ forks its work horses is frozen out of the garbage collector's
view: a horse's full collections neither walk it nor write to the pages it shares."""


def test_the_worker_freezes_what_it_preloads(frozen_after):
    assert frozen_after("from workers.cli import _preload; _preload()") > 100_000
