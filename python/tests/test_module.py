"""The module itself: loading, facts, one decision, a batch of decisions."""

import datetime
import json
import pathlib

import pyarrow as pa
import pyarrow.json as pj
import pytest

import policyc
from conftest import FACTS, NOW, PEOPLE, POLICY, cli_eval, deciding_rule


@pytest.fixture(scope="module")
def policy():
    return policyc.Policy.load(POLICY)


@pytest.fixture(scope="module")
def facts(policy):
    with open(FACTS, encoding="utf-8") as f:
        return policy.facts(f.read(), now=NOW)


def people():
    with open(PEOPLE, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_a_policy_loads_with_its_name(policy):
    assert policy.name == "beijing_entry"


def test_a_missing_policy_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="cannot read"):
        policyc.Policy.load(str(tmp_path / "none.policy"))


def test_a_policy_with_errors_says_which(tmp_path):
    path = tmp_path / "bad.policy"
    path.write_text("policy p\noutcomes green\notherwise red\n", encoding="utf-8")
    with pytest.raises(ValueError, match="error"):
        policyc.Policy.load(str(path))


def test_each_person_is_decided_as_the_cli_decides(policy, facts):
    expected = cli_eval(PEOPLE, "--next-change")
    for person, cli in zip(people(), expected, strict=True):
        assert policy.decide(person, facts, NOW, next_change=True) == cli
        assert policy.decide(json.dumps(person), facts, NOW, next_change=True) == cli


def test_now_may_be_a_datetime(policy, facts):
    person = people()[1]
    now = datetime.datetime.fromisoformat(NOW)
    assert policy.decide(person, facts, now) == policy.decide(person, facts, NOW)


def test_a_bad_record_is_a_value_error_naming_its_path(policy, facts):
    with pytest.raises(ValueError, match=r"stays\[0\]\.region"):
        policy.decide({"stays": [{"phone": "1", "region": "1529", "from": NOW}]}, facts, NOW)


def test_a_bad_instant_is_a_value_error(policy, facts):
    with pytest.raises(ValueError, match="not an instant"):
        policy.decide({}, facts, "yesterday")


def test_facts_of_another_policy_are_refused(policy):
    other = policyc.Policy.load(POLICY)
    with open(FACTS, encoding="utf-8") as f:
        theirs = other.facts(f.read())
    with pytest.raises(ValueError, match="another policy"):
        policy.decide({}, theirs, NOW)


def test_facts_given_now_are_checked_as_eval_checks_them(tmp_path):
    path = tmp_path / "expiring.policy"
    path.write_text(
        'policy expiring\ntimezone "Asia/Shanghai"\noutcomes green < popup\n'
        "input person { stays: list of { region: region } }\n"
        "facts {\n  required case_counties: set of region\n}\n"
        "facts expire 36h after as_of\n"
        'rule county "a stay in a case county"\n'
        "  when any person.stays has region in case_counties\n  then popup\n"
        "otherwise green\n",
        encoding="utf-8",
    )
    expiring = policyc.Policy.load(str(path))
    fresh = '{"as_of": "2021-11-01", "case_counties": ["152923"]}'
    facts = expiring.facts(fresh, now=NOW)
    assert expiring.decide({"stays": [{"region": "152923"}]}, facts, NOW)["outcome"] == "popup"
    with pytest.raises(ValueError, match="36h|older|expire"):
        expiring.facts(fresh, now="2021-11-05T10:00:00+08:00")
    with pytest.raises(ValueError, match="case_counties"):
        expiring.facts('{"as_of": "2021-11-01"}', now=NOW)


def test_a_batch_gives_the_decisions_of_its_rows_in_order(policy, facts):
    table = pj.read_json(PEOPLE)
    batch = table.to_batches()[0]
    out = policy.decide_batch(batch, facts, NOW, next_change=True)
    assert isinstance(out, pa.RecordBatch)
    assert out.schema == policy.decision_schema(next_change=True)
    rows = out.to_pylist()
    expected = cli_eval(PEOPLE, "--next-change")
    assert len(rows) == len(expected) == batch.num_rows
    for row, cli in zip(rows, expected):
        assert row["id"] == cli["id"]
        assert row["outcome"] == cli["outcome"]
        assert row["kind"] == cli.get("kind")
        assert row["message"] == cli.get("message")
        assert row["rule"] == deciding_rule(cli)
        assert row["rules"] == [r["name"] for r in cli["rules"]]
        assert row["warnings"] == cli["warnings"]
        next_change = cli["next_change"]
        assert row["next_outcome"] == (next_change and next_change["outcome"])
        assert row["error"] is None


def test_a_bad_row_has_its_error_and_the_others_are_decided(policy, facts):
    batch = pa.RecordBatch.from_pylist([
        {"id": "a", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-30T08:00:00+08:00"}]},
        {"id": "b", "stays": [{"phone": "1", "region": "15292", "from": "2021-10-30T08:00:00+08:00"}]},
    ])
    rows = policy.decide_batch(batch, facts, NOW).to_pylist()
    assert rows[0]["outcome"] == "popup" and rows[0]["error"] is None
    assert rows[1]["outcome"] is None
    assert "stays[0].region" in rows[1]["error"]


def test_a_column_of_the_wrong_type_fails_the_batch(policy, facts):
    batch = pa.RecordBatch.from_pylist([{"id": "a", "stays": [{"phone": "1", "region": 152923}]}])
    with pytest.raises(ValueError, match=r"column `stays\[\]\.region` holds integers"):
        policy.decide_batch(batch, facts, NOW)


def test_typed_timestamps_decide_as_their_text(policy, facts):
    text = pa.RecordBatch.from_pylist([
        {"id": "a", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-30T08:00:00+08:00"}]},
    ])
    stamp = datetime.datetime(2021, 10, 30, 0, 0, tzinfo=datetime.timezone.utc)
    typed = pa.RecordBatch.from_pylist([
        {"id": "a", "stays": [{"phone": "1", "region": "152923", "from": stamp}]},
    ])
    assert typed.schema.field("stays").type.value_type.field("from").type == pa.timestamp("us", tz="UTC")
    assert (policy.decide_batch(typed, facts, NOW).to_pylist()
            == policy.decide_batch(text, facts, NOW).to_pylist())


LIBRARIES = ("beijing-common.policy", "beijing-test-remedy.policy")


def _copied_policy(tmp_path):
    """The Beijing policy and the libraries it uses, copied into
    `tmp_path`: the policy's path, and the libraries'."""
    import shutil

    root = pathlib.Path(POLICY).parent
    for name in ("beijing-2021-10-30.policy", *LIBRARIES):
        shutil.copy(root / name, tmp_path / name)
    return tmp_path / "beijing-2021-10-30.policy", [tmp_path / name for name in LIBRARIES]


def test_a_policy_lists_the_libraries_it_uses_with_their_texts(tmp_path):
    path, files = _copied_policy(tmp_path)
    libraries = policyc.Policy.load(str(path)).libraries
    assert libraries == {str(f): f.read_text(encoding="utf-8") for f in files}


def test_a_policy_compiles_where_its_library_is_not_from_the_libraries_text(
        tmp_path, policy, facts):
    path, files = _copied_policy(tmp_path)
    text = path.read_text(encoding="utf-8")
    libraries = policyc.Policy.load(str(path)).libraries
    for f in files:
        f.unlink()
    with pytest.raises(ValueError, match=r"there is no file `[^`]*beijing-test-remedy\.policy`"):
        policyc.Policy.compile(text, str(path))
    there = policyc.Policy.compile(text, str(path), libraries=libraries)
    assert there.libraries == libraries
    there_facts = there.facts(open(FACTS, encoding="utf-8").read(), now=NOW)
    for person in people():
        assert there.decide(person, there_facts, NOW, next_change=True) == policy.decide(
            person, facts, NOW, next_change=True)


def test_the_midnight_jobs_executors_need_no_policy_files(tmp_path, policy, facts):
    """What the driver sends the executors compiles the policy after its
    files are gone, as on a cluster's executors."""
    from midnight import _checked

    path, files = _copied_policy(tmp_path)
    texts, _ = _checked(str(path), FACTS, NOW, False)
    for f in [path, *files]:
        f.unlink()
    there = texts.policy()
    there_facts = there.facts(texts.facts_text, now=NOW)
    person = people()[1]
    assert there.decide(person, there_facts, NOW) == policy.decide(person, facts, NOW)
