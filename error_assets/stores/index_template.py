"""The OpenSearch index template for published documents (DESIGN.md, "The OpenSearch document").

Field types come from the name prefix (`s_` keyword, `l_` long, `f_` double, `b_` boolean,
`ts_` date) through dynamic templates, so a new field needs no mapping change; the free-text
fields of `TEXT_FIELDS` are mapped explicitly as `text` with a `.keyword` sub-field.
"""

from __future__ import annotations

from typing import Any

from error_assets.stores.documents import TEXT_FIELDS

# Bump when the mappings or settings below change: `ensure_ready` re-installs the template.
TEMPLATE_VERSION = 1

# Keyword values longer than this are kept in `_source` but not indexed (a 40 kB stack trace in
# an `s_` field would otherwise make Lucene reject the whole document).
KEYWORD_IGNORE_ABOVE = 4096

_PREFIX_TYPES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("s_", {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}),
    ("l_", {"type": "long"}),
    # double rather than float: cost sums must not drift by float rounding.
    ("f_", {"type": "double"}),
    ("b_", {"type": "boolean"}),
    # Empty or partial timestamps (a job with no start time) stay in `_source` rather than
    # failing the document; they are simply not searchable.
    ("ts_", {"type": "date", "ignore_malformed": True}),
)


def template_name(index: str) -> str:
    return f"{index}-template"


def index_patterns(index: str) -> list[str]:
    """The alias/plain index itself and its rollover backing indices (`<index>-000001`)."""
    return [index, f"{index}-*"]


def mappings() -> dict[str, Any]:
    text_properties = {
        name: {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}},
        }
        for name in TEXT_FIELDS
    }
    return {
        "dynamic_templates": [
            {f"{prefix.rstrip('_')}_fields": {"match": f"{prefix}*", "mapping": mapping}}
            for prefix, mapping in _PREFIX_TYPES
        ],
        "properties": {
            "@timestamp": {"type": "date"},
            # Typed up front so every query field exists even in an empty index.
            "s_partition": {"type": "keyword"},
            "s_error_hash": {"type": "keyword"},
            "s_member_fingerprints": {"type": "keyword"},
            "s_primary_category": {"type": "keyword"},
            "s_classifier_kind": {"type": "keyword"},
            "l_occurrence_count": {"type": "long"},
            "f_cost_usd": {"type": "double"},
            "b_realtime": {"type": "boolean"},
            "b_is_duplicate": {"type": "boolean"},
            **text_properties,
        },
    }


def index_template(index: str, replicas: int = 0, shards: int = 1) -> dict[str, Any]:
    """The composable index template body for `PUT _index_template/<template_name(index)>`."""
    return {
        "index_patterns": index_patterns(index),
        "priority": 200,
        "_meta": {"managed_by": "error_assets", "version": TEMPLATE_VERSION},
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": shards,
                    "number_of_replicas": replicas,
                }
            },
            "mappings": mappings(),
        },
    }
