"""Pytest plugin: opensearch_node fixtures (filled in by its issue)."""
