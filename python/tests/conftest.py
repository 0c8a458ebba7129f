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


def cli_eval(people_path, *extra):
    """`policyc eval` of the people in `people_path`: its decisions by line."""
    out = subprocess.run(
        [binary("policyc"), "eval", POLICY, "--input", people_path, "--facts", FACTS,
         "--now", NOW, *extra],
        check=False, capture_output=True, text=True,
    )
    assert out.returncode in (0, 3), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def deciding_rule(decision):
    """The rule that decided: the first fired rule with the outcome."""
    return next((r["name"] for r in decision.get("rules", [])
                 if r["outcome"] == decision["outcome"]), None)
