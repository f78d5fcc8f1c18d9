"""The Commons HTTP API."""
