"""Run by tests/contract/test_generated_clients.py with the Python of the client generator's own
virtual environment, on the client openapi-python-client generated from openapi/openapi.json:

    python check_client.py DOCUMENT PACKAGE_DIR

Imports every module of the generated package, then reads each example of the document (request
bodies and responses, by the schema they are examples of) with the generated model of that
schema, which must know every field of it. Exits non-zero, naming what failed."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path


def _examples(document: dict):
    """(schema name, example, where) for every example whose schema is a component."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, r) for status, r in operation["responses"].items()]
            for where, body in bodies:
                if "$ref" in body:  # a shared response: #/components/responses/NAME
                    body = document["components"]["responses"][body["$ref"].rsplit("/", 1)[-1]]
                for media in body.get("content", {}).values():
                    ref = media.get("schema", {}).get("$ref", "")
                    if ref.startswith("#/components/schemas/") and "example" in media:
                        name = ref.rsplit("/", 1)[-1]
                        yield name, media["example"], f"{method.upper()} {path} {where}"


def main(document_path: str, package_dir: str) -> int:
    document = json.loads(Path(document_path).read_text())
    package = Path(package_dir)
    sys.path.insert(0, str(package.parent))
    client = importlib.import_module(package.name)
    modules = [client.__name__]
    for info in pkgutil.walk_packages(client.__path__, prefix=client.__name__ + "."):
        importlib.import_module(info.name)
        modules.append(info.name)
    models = importlib.import_module(f"{package.name}.models")
    client.AuthenticatedClient(base_url="http://127.0.0.1:5000", token="token")

    failures = []
    read = 0
    seen = set()
    for name, example, where in _examples(document):
        if (name, json.dumps(example, sort_keys=True)) in seen:
            continue
        seen.add((name, json.dumps(example, sort_keys=True)))
        model = getattr(models, name, None)
        if model is None:
            failures.append(f"{where}: no model {name} in the generated client")
            continue
        try:
            value = model.from_dict(example)
        except Exception as error:
            failures.append(f"{where}: {name}.from_dict(example) failed: {error!r}")
            continue
        unknown = getattr(value, "additional_properties", {})
        if unknown:
            failures.append(f"{where}: {name} does not know {sorted(unknown)}")
        read += 1
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"imported {len(modules)} modules; read {read} examples with their models")
    return 1 if failures or read == 0 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
