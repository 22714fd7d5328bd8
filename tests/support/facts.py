"""The Uploads API's facts as the documentation states them (docs/rules.md), written down
here apart from the product's `conformance/api.py`: the tests' own readings (the fake
targets, the request rules) are built on them, so a product constant gone wrong shows."""

PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
UPLOAD_LIMIT = 8 * 1024**3  # bytes an upload may declare
PART_LIMIT = 64 * 1024 * 1024  # bytes a part may hold
LIFETIME_S = 3600  # an upload expires an hour after it was created
EXPIRES_AFTER_MIN_S, EXPIRES_AFTER_MAX_S = 3600, 2_592_000  # expires_after.seconds
