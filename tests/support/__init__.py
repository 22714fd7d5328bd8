"""What the project's own tests share, imported as `tests.support.<module>`."""
