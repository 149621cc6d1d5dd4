"""The single-node OpenSearch used by tests and `make opensearch` (Maven project + launcher)."""
