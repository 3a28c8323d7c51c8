"""A schema kept as JSON (snapshot manifests, the sync history) comes back exactly as it was."""

import dataclasses
import json

import pytest

from schema.model_schema import model_schema
from schema.schema_json import schema_from_dict, schema_to_dict


@pytest.mark.parametrize("vendor", ["mysql", "postgresql", "sqlite"])
def test_every_table_of_the_models_survives_json(vendor):
    schema = model_schema(vendor)
    back = schema_from_dict(json.loads(json.dumps(schema_to_dict(schema))))
    assert back.vendor == vendor and list(back.tables) == sorted(schema.tables)
    for name, table in schema.tables.items():
        # asdict compares every field, names and DDL types included (equality leaves some out)
        assert dataclasses.asdict(back.tables[name]) == dataclasses.asdict(table), name


def test_only_the_named_tables_are_kept():
    schema = model_schema("sqlite")
    data = schema_to_dict(schema, ["instances", "fixed_ips", "no_such_table"])
    assert list(data["tables"]) == ["fixed_ips", "instances"]
