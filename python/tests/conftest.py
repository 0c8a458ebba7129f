"""Paths shared by the tests: the repository's policies and examples, and
the `policyc` binary whose decisions the module's must equal."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY = str(ROOT / "policies" / "beijing-2021-10-30.policy")
FACTS = str(ROOT / "examples" / "beijing" / "facts.json")
PEOPLE = str(ROOT / "examples" / "beijing" / "people.jsonl")
NOW = "2021-11-01T10:00:00+08:00"


def binary(name):
    """A binary of the root crate (built by python/ci.sh)."""
    target = pathlib.Path(os.environ.get("POLICYC_TARGET", ROOT / "target" / "debug"))
    path = target / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run python/ci.sh, which builds it")
    return str(path)


def cli_eval(people_path, *extra, now=NOW):
    """`policyc eval` of the people in `people_path` at `now`: its decisions
    by line."""
    out = subprocess.run(
        [binary("policyc"), "eval", POLICY, "--input", people_path, "--facts", FACTS,
         "--now", now, *extra],
        check=False, capture_output=True, text=True,
    )
    assert out.returncode in (0, 3), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def deciding_rule(decision):
    """The rule that decided: the first fired rule with the outcome."""
    return next((r["name"] for r in decision.get("rules", [])
                 if r["outcome"] == decision["outcome"]), None)


def _zoned(ty):
    """`ty` with every timestamp marked UTC: pyarrow's JSON reader turns
    `2021-10-31T09:00:00+08:00` into the UTC instant but leaves the zone
    off, which would make it a wall-clock time."""
    import pyarrow as pa

    if pa.types.is_timestamp(ty) and ty.tz is None:
        return pa.timestamp(ty.unit, tz="UTC")
    if pa.types.is_list(ty):
        return pa.list_(ty.value_field.with_type(_zoned(ty.value_type)))
    if pa.types.is_struct(ty):
        return pa.struct([f.with_type(_zoned(f.type)) for f in ty])
    return ty


def to_parquet(jsonl, parquet):
    """JSON Lines people as Parquet, their instants as timestamps."""
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    table = pj.read_json(jsonl)
    schema = pa_schema(table.schema)
    # Row groups of 50,000 people, as a lake's files have many.
    pq.write_table(table.cast(schema), parquet, row_group_size=50_000)


def pa_schema(schema):
    import pyarrow as pa

    return pa.schema([f.with_type(_zoned(f.type)) for f in schema])
