"""The authorization matrix (DESIGN.md, "Tests"): every operation of the OpenAPI document, for
every principal, on a practice, a PCN and a federation, against API.md's "Who may do what".

- `matrix.py`: what every table shares: the principals, the objects they act on (organisations
  of the `net` scene), `table()`, `Scene` and `Expect`.
- `tables_<feature>.py`: a feature's expectations, `EXPECTATIONS` (operationId -> `Expect`), with
  the objects its operations need, built by each row's `arrange` (which sets the path
  parameters it provides in `scene.path`).
- `test_permission_matrix.py`: collects every `tables_*.py` module into one `MATRIX` and runs
  each operation for each principal on each object.

A new feature's operations go in a new `tables_<feature>.py` in this package; it is found by its
name, nothing else needs an edit. A new operation in the document fails
`test_every_operation_has_expectations` until its row is added to its feature's table; a row for
an operation that no longer exists, or an operation in two tables, fails it too.
"""
