"""The shipped saved objects (dashboards/error_trends.ndjson) against the index's real mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from error_assets.settings import DEFAULT_INDEX
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.stores.sample_documents import make_document

NDJSON = Path(__file__).resolve().parents[2] / "dashboards" / "error_trends.ndjson"
# OpenSearch Dashboards' field type for each mapping type.
DASHBOARD_TYPE = {
    "keyword": "string",
    "text": "string",
    "long": "number",
    "double": "number",
    "date": "date",
    "boolean": "boolean",
}
# What each aggregation needs of its field.
AGG_FIELD_TYPES = {
    "sum": {"number"},
    "avg": {"number"},
    "min": {"number", "date"},
    "max": {"number", "date"},
    "date_histogram": {"date"},
    "terms": {"string", "number", "boolean"},
    "top_hits": {"string", "number", "date", "boolean"},
    "cardinality": {"string", "number", "date", "boolean"},
}
KQL_FIELD = re.compile(r"([@\w][\w.]*)\s*:")


def saved_objects() -> list[dict[str, Any]]:
    objects = []
    for number, line in enumerate(NDJSON.read_text().splitlines(), start=1):
        if line.strip():
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as error:
                pytest.fail(f"{NDJSON}:{number}: not JSON: {error}")
    return objects


def flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Mapping properties as {"a.b": type}, including multi-field sub-fields."""
    types: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            types.update(flatten(spec["properties"], f"{path}."))
            continue
        types[path] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            types[f"{path}.{sub}"] = sub_spec["type"]
    return types


@pytest.fixture(scope="module")
def real_mapping(opensearch_url: str) -> Iterator[dict[str, str]]:
    """The mapping of an index holding one complete published document."""
    from tests.support.opensearch_node import drop_index, fresh_index_name

    index = fresh_index_name()
    try:
        store = OpenSearchStore(opensearch_url, index=index)
        store.replace_partition("2026-11-25-14:00", [make_document("fp-x", "2026-11-25-14:00")])
        client = OpenSearch(hosts=[opensearch_url])
        mapping = client.indices.get_mapping(index=index)
        client.close()
        yield flatten(next(iter(mapping.values()))["mappings"]["properties"])
    finally:
        drop_index(opensearch_url, index)


def by_type(kind: str) -> list[dict[str, Any]]:
    return [o for o in saved_objects() if o["type"] == kind]


def test_saved_objects_are_complete_and_references_resolve() -> None:
    objects = saved_objects()
    assert sorted(o["type"] for o in objects) == [
        "dashboard",
        "index-pattern",
        "visualization",
        "visualization",
    ]
    known = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for reference in obj.get("references", []):
            assert (reference["type"], reference["id"]) in known, (obj["id"], reference)
    dashboard = by_type("dashboard")[0]
    panel_refs = {p["panelRefName"] for p in json.loads(dashboard["attributes"]["panelsJSON"])}
    assert panel_refs == {r["name"] for r in dashboard["references"]}
    titles = {json.loads(v["attributes"]["visState"])["type"] for v in by_type("visualization")}
    assert titles == {"histogram", "table"}


@pytest.mark.opensearch
def test_index_pattern_fields_match_the_real_mapping(real_mapping: dict[str, str]) -> None:
    pattern = by_type("index-pattern")[0]["attributes"]
    assert pattern["title"] == DEFAULT_INDEX
    assert real_mapping[pattern["timeFieldName"]] == "date"
    for field in json.loads(pattern["fields"]):
        name = field["name"]
        assert name in real_mapping, f"{name} is not in the index mapping"
        assert field["esTypes"] == [real_mapping[name]], name
        assert field["type"] == DASHBOARD_TYPE[real_mapping[name]], name
        assert field["aggregatable"] is (real_mapping[name] != "text"), name


@pytest.mark.opensearch
def test_visualisations_reference_fields_of_the_right_type(real_mapping: dict[str, str]) -> None:
    pattern_fields = {
        f["name"] for f in json.loads(by_type("index-pattern")[0]["attributes"]["fields"])
    }
    checked = 0
    for visualization in by_type("visualization"):
        state = json.loads(visualization["attributes"]["visState"])
        for agg in state["aggs"]:
            params = agg["params"]
            for key in ("field", "sortField"):
                if key not in params:
                    continue
                name = params[key]
                assert name in pattern_fields, f"{state['title']}: {name} not in the index pattern"
                assert name in real_mapping, f"{state['title']}: {name} not in the mapping"
                kind = DASHBOARD_TYPE[real_mapping[name]]
                wanted = AGG_FIELD_TYPES[agg["type"]] if key == "field" else {"date", "number"}
                assert kind in wanted, f"{state['title']}: {agg['type']} on {name} ({kind})"
                if agg["type"] in ("terms", "top_hits"):
                    assert real_mapping[name] != "text", f"{name} is not aggregatable"
                checked += 1
        source = json.loads(
            visualization["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
        )
        for name in KQL_FIELD.findall(source["query"]["query"]):
            assert name in real_mapping, f"{state['title']}: query field {name} not in mapping"
            checked += 1
    assert checked >= 8
