"""Jobs the outbox tests run on a worker in the test process: each run leaves a line in a file."""

from pathlib import Path


def note(path: str, word: str) -> str:
    with Path(path).open("a") as f:
        f.write(word + "\n")
    return word


def fail_unless(path: str, word: str) -> str:
    """Fails while `<path>.broken` exists (the "fix" is deleting it)."""
    note(path, word)
    if Path(path + ".broken").exists():
        raise RuntimeError(f"{word}: broken")
    return word
