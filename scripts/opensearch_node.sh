#!/usr/bin/env bash
# Start a local single-node OpenSearch 2.19 (built from Maven Central on first use, then cached)
# in the foreground, for trying the pipeline against OpenSearch:
#
#   scripts/opensearch_node.sh                 # http://127.0.0.1:9200, data in .error_assets/opensearch
#   OPENSEARCH_PORT=9201 scripts/opensearch_node.sh
#
# then, in another shell: export OPENSEARCH_URL=http://127.0.0.1:9200
# Needs Java 17 and Maven. Stop it with Ctrl-C; its data survives restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" -m tests.opensearch_node.launcher run \
    --port "${OPENSEARCH_PORT:-9200}" \
    --data "${OPENSEARCH_DATA:-.error_assets/opensearch}" \
    --heap "${OPENSEARCH_HEAP:-512m}"
