"""Measures of a workstream and their statistical process control charts."""
