"""The midnight job: re-decide every resident with tonight's facts.

Reads the residents' Parquet, decides each person under the policy with
`policyc` on every Spark executor (`DataFrame.mapInArrow`; each executor
reads its row groups of the residents' files itself, `decide_parquet`),
writes the decisions as Parquet, and counts the transitions of outcome
against yesterday's decisions:

    python midnight.py --policy beijing.policy --facts facts.json \\
        --residents residents.parquet --now 2021-11-01T00:00:00+08:00 \\
        --out decisions/2021-11-01 --yesterday decisions/2021-10-31

On one machine it runs in `local[*]`; on a cluster submit the same file
with `spark-submit --master yarn` (or `k8s://...`), the `policyc` wheel
installed on every executor (or shipped with `--py-files`/a packed
environment). The policy, the libraries it uses and the facts travel with
the job as text: the executors need no access to the files.
"""

import argparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema


def _checked(policy_path, facts_path, now, next_change):
    """What the executors need, as texts: the policy's, the libraries' it
    uses (by the names its `use`s resolve to) and the facts'; and the
    decisions' Spark schema. All are checked here, on the driver, before
    any executor starts."""
    import policyc

    with open(policy_path, encoding="utf-8") as f:
        policy_text = f.read()
    with open(facts_path, encoding="utf-8") as f:
        facts_text = f.read()
    policy = policyc.Policy.compile(policy_text, policy_path)
    policy.facts(facts_text, now=now)
    schema = from_arrow_schema(policy.decision_schema(next_change=next_change))
    texts = _Texts(policy_path, policy_text, policy.libraries, facts_text)
    return texts, schema


class _Texts:
    """The policy, its libraries and the facts as the driver read them:
    an executor compiles the same policy from them without the files."""

    def __init__(self, policy_path, policy_text, libraries, facts_text):
        self.policy_path = policy_path
        self.policy_text = policy_text
        self.libraries = libraries
        self.facts_text = facts_text

    def policy(self):
        import policyc

        return policyc.Policy.compile(self.policy_text, self.policy_path,
                                      libraries=self.libraries)


def decide(spark: SparkSession, residents: DataFrame, policy_path: str, facts_path: str,
           now: str, next_change: bool = False) -> DataFrame:
    """The decisions for every resident at `now`: one row per person."""
    texts, schema = _checked(policy_path, facts_path, now, next_change)

    def decide_batches(batches):
        policy = texts.policy()
        facts = policy.facts(texts.facts_text, now=now)
        for batch in batches:
            yield policy.decide_batch(batch, facts, now, next_change=next_change)

    return residents.mapInArrow(decide_batches, schema)


def decide_parquet(spark: SparkSession, residents: str, policy_path: str, facts_path: str,
                   now: str, next_change: bool = False) -> DataFrame:
    """The decisions for every resident of the Parquet files at `residents`
    (a file or a folder, as `spark.read.parquet` takes it): the same rows
    as `decide` gives, but each executor reads the row groups it decides
    itself, with pyarrow, straight into the Arrow batches `decide_batch`
    takes. Spark does not turn the residents' nested lists into its own
    rows and back into Arrow first, which costs it more than deciding."""
    texts, schema = _checked(policy_path, facts_path, now, next_change)
    # Spark finds the files (`file://`, `hdfs://`, `s3a://` ... URIs); the
    # driver reads their footers to cut the work into one piece a row
    # group, in the files' order.
    files = sorted(spark.read.parquet(residents).inputFiles())
    pieces = [(f, g) for f in files for g in range(_parquet(f).metadata.num_row_groups)]
    tasks = spark.createDataFrame(pieces, "file string, row_group int")

    def decide_row_groups(batches):
        policy = texts.policy()
        facts = policy.facts(texts.facts_text, now=now)
        for batch in batches:
            for file, group in zip(batch.column("file").to_pylist(),
                                   batch.column("row_group").to_pylist()):
                for people in _parquet(file).iter_batches(row_groups=[group]):
                    yield policy.decide_batch(people, facts, now, next_change=next_change)

    return tasks.mapInArrow(decide_row_groups, schema)


def _parquet(uri):
    """The Parquet file at a URI Spark gives, opened with pyarrow's file
    system for its scheme (a plain path is a local file)."""
    import pyarrow.fs
    import pyarrow.parquet as pq

    fs, path = pyarrow.fs.FileSystem.from_uri(uri) if "://" in uri else (None, uri)
    return pq.ParquetFile(fs.open_input_file(path) if fs else path)


def transitions(yesterday: DataFrame, today: DataFrame) -> DataFrame:
    """How many people went from each outcome to each other one (null: not
    decided that day)."""
    before = yesterday.select("id", F.col("outcome").alias("yesterday"))
    after = today.select("id", F.col("outcome").alias("today"))
    return (
        before.join(after, "id", "full_outer")
        .groupBy("yesterday", "today")
        .agg(F.count("*").alias("people"))
        .orderBy("yesterday", "today")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", required=True)
    parser.add_argument("--facts", required=True)
    parser.add_argument("--residents", required=True, help="Parquet: one person per row")
    parser.add_argument("--now", required=True)
    parser.add_argument("--out", required=True, help="where tonight's decisions go")
    parser.add_argument("--yesterday", help="yesterday's decisions, to count transitions")
    parser.add_argument("--master", help="e.g. local[2]; default: as spark-submit says")
    args = parser.parse_args()
    builder = SparkSession.builder.appName("policyc-midnight")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    decide_parquet(spark, args.residents, args.policy, args.facts, args.now).write.mode(
        "overwrite").parquet(args.out)
    today = spark.read.parquet(args.out)
    undecided = today.filter(F.col("error").isNotNull()).count()
    print(f"{today.count()} people decided, {undecided} could not be")
    if args.yesterday:
        transitions(spark.read.parquet(args.yesterday), today).show(100, truncate=False)
    spark.stop()


if __name__ == "__main__":
    main()
