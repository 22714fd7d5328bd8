"""The suite's pytest modules: each runs one family of checks against `uploads_target`.

Run them with `uploads-conformance run`, or with `pytest --pyargs conformance.suite` and
the plugin's `--uploads-*` options.
"""
