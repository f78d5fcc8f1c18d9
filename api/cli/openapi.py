"""`commons openapi`: the OpenAPI document, exported."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from flask import current_app
from flask.cli import AppGroup, with_appcontext


@click.group(cls=AppGroup)
def openapi() -> None:
    """The OpenAPI document."""


@openapi.command("write")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@with_appcontext
def openapi_write(path: str) -> None:
    """Export the OpenAPI document to PATH (- for standard output)."""
    spec = current_app.extensions["commons_api"].spec.to_dict()
    data = orjson.dumps(spec, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    if path == "-":
        sys.stdout.buffer.write(data)
        return
    Path(path).write_bytes(data)
    click.echo(f"wrote {path}")
