"""The benchmarks of Parquet and Spark (README, "Performance"):

    python bench.py to-parquet people.jsonl people.parquet
    python bench.py spark people.parquet POLICY FACTS NOW [--master local[2]] [--read executors]

`to-parquet` writes generated people (JSON Lines) as Parquet, streaming,
instants as UTC timestamps; `spark` times the midnight job's decisions of
a Parquet file in Spark (session started beforehand, not timed), written
as Parquet, and prints people per second: read by Spark (`decide`), or
with `--read executors` by each executor itself (`decide_parquet`).
"""

import io
import itertools
import shutil
import sys
import tempfile
import time

import pyarrow.json as pj
import pyarrow.parquet as pq

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/tests")
from conftest import pa_schema  # noqa: E402


def to_parquet(jsonl, parquet):
    with open(jsonl, "rb") as f:
        sample = b"".join(itertools.islice(f, 100_000))
    schema = pa_schema(pj.read_json(io.BytesIO(sample)).schema)
    reader = pj.open_json(
        jsonl,
        read_options=pj.ReadOptions(block_size=32 << 20),
        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )
    rows = 0
    with pq.ParquetWriter(parquet, schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    print(f"{rows} people written to {parquet}")


def spark(parquet, policy, facts, now, master="local[2]", read="spark"):
    from pyspark.sql import SparkSession

    from midnight import decide, decide_parquet

    session = (SparkSession.builder.master(master).appName("policyc-bench")
               .config("spark.ui.enabled", "false").getOrCreate())
    out = tempfile.mkdtemp()
    try:
        residents = session.read.parquet(parquet)
        people = residents.count()
        start = time.perf_counter()
        if read == "executors":
            decided = decide_parquet(session, parquet, policy, facts, now)
        else:
            decided = decide(session, residents, policy, facts, now)
        decided.write.mode("overwrite").parquet(out)
        took = time.perf_counter() - start
        print(f"spark {master}, read by {read}: {people} people in {took:.2f} s: "
              f"{people / took:,.0f} people/s")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        session.stop()


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["to-parquet", jsonl, parquet]:
            to_parquet(jsonl, parquet)
        case ["spark", parquet, policy, facts, now, "--master", master, "--read", read]:
            spark(parquet, policy, facts, now, master, read)
        case ["spark", parquet, policy, facts, now, "--master", master]:
            spark(parquet, policy, facts, now, master)
        case ["spark", parquet, policy, facts, now]:
            spark(parquet, policy, facts, now)
        case _:
            sys.exit(__doc__)
