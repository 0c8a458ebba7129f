"""The real thing: a PySpark job in `local[2]` decides 200,000 generated
people read from Parquet with `mapInArrow`, and every decision equals
`policyc eval`'s on the same people as JSON Lines."""

import json
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from conftest import FACTS, NOW, POLICY, binary, cli_eval, deciding_rule, to_parquet

PEOPLE = int(os.environ.get("POLICYC_SPARK_PEOPLE", "200000"))


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    """The generated people as JSON Lines and as Parquet (instants as the
    timestamps pyarrow's JSON reader makes of them)."""
    folder = tmp_path_factory.mktemp("population")
    jsonl = folder / "people.jsonl"
    with open(jsonl, "wb") as out:
        subprocess.run([binary("examples/population"), str(PEOPLE), "12"], stdout=out, check=True)
    parquet = folder / "people.parquet"
    to_parquet(jsonl, parquet)
    yield jsonl, parquet, folder
    # Half a gigabyte of people: not kept for pytest's next runs.
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The executors' Python is this one, with the module installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("policyc-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("read", ["spark", "executors"])
def test_spark_decides_every_person_as_the_cli_does(population, spark, read):
    from midnight import decide, decide_parquet

    jsonl, parquet, folder = population
    residents = spark.read.parquet(str(parquet))
    types = dict(residents.dtypes)
    assert types["stays"].startswith("array<struct<")
    assert "from:timestamp" in types["stays"], types["stays"]
    decisions = folder / f"decisions-{read}"
    if read == "spark":
        decided = decide(spark, residents, POLICY, FACTS, NOW)
    else:
        # Each executor reads its row groups itself: the file has several,
        # so the work is cut into pieces.
        assert pq.ParquetFile(parquet).metadata.num_row_groups > 1
        decided = decide_parquet(spark, str(parquet), POLICY, FACTS, NOW)
    decided.write.parquet(str(decisions))
    rows = pq.read_table(decisions).to_pylist()
    expected = {d["id"]: d for d in cli_eval(str(jsonl), "--jobs", "2")}
    assert len(rows) == len(expected) == PEOPLE
    for row in rows:
        cli = expected[row["id"]]
        assert row["error"] is None, row
        assert (row["outcome"], row["kind"], row["message"]) == (
            cli["outcome"], cli.get("kind"), cli.get("message")), row["id"]
        assert row["rule"] == deciding_rule(cli), row["id"]
        assert row["rules"] == [r["name"] for r in cli["rules"]], row["id"]
        assert row["warnings"] == cli["warnings"], row["id"]


def test_the_midnight_job_counts_transitions_against_yesterday(population, spark):
    from midnight import decide, transitions

    jsonl, _, folder = population
    # A part of the population, decided twice.
    part = folder / "part.jsonl"
    with open(jsonl, encoding="utf-8") as f, open(part, "w", encoding="utf-8") as out:
        for _, line in zip(range(20000), f):
            out.write(line)
    to_parquet(part, folder / "part.parquet")
    residents = spark.read.parquet(str(folder / "part.parquet"))
    yesterday_now = "2021-10-31T10:00:00+08:00"
    yesterday = decide(spark, residents, POLICY, FACTS, yesterday_now)
    today = decide(spark, residents, POLICY, FACTS, NOW)
    counts = {(r["yesterday"], r["today"]): r["people"]
              for r in transitions(yesterday, today).collect()}
    before = {d["id"]: d["outcome"] for d in cli_eval(str(part), now=yesterday_now)}
    after = {d["id"]: d["outcome"] for d in cli_eval(str(part))}
    expected = {}
    for i, outcome in after.items():
        key = (before[i], outcome)
        expected[key] = expected.get(key, 0) + 1
    assert counts == expected
    assert sum(counts.values()) == 20000
    assert any(a != b for a, b in counts), "some people change outcome overnight"
