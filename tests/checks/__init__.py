"""Offline checks of what the template renders: the Databricks bundle and the CI/CD files.

Each check is a small function that returns a list of problems (empty when all is well), so the
positive tests (every rendered project) and the negative tests (a project broken on purpose) run
exactly the same code.
"""
