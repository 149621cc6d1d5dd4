"""Pytest plugin: fake_anthropic fixtures (filled in by its issue)."""
