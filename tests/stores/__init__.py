"""Store contract suite (local + OpenSearch), OpenSearch reliability and dashboards tests."""
