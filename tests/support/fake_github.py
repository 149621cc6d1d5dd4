"""Pytest plugin: fake_github fixtures (filled in by its issue)."""
