#!/usr/bin/env bash
# The Python module and the Spark job, tested for real (.ci/run calls this):
# a virtual environment of its own with pinned maturin, pyarrow, pyspark and
# pytest from the package index, a Java runtime from the system's packages
# if there is none, the wheel built and installed, then pytest: the module's
# unit tests and a PySpark job in local[2] over 200,000 generated people
# whose every decision must equal `policyc eval`'s.
set -euo pipefail
cd "$(dirname "$0")"
venv="${POLICYC_VENV:-$PWD/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  maturin==1.16.0 pyarrow==21.0.0 pyspark==4.0.1 pandas==2.3.3 pytest==8.4.2
if ! command -v java >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
fi
# The CLI and the population generator the tests compare with (debug: the
# comparison needs their answers, not their speed).
cargo build --locked --quiet --manifest-path ../Cargo.toml --bin policyc --example population
rm -rf dist
"$venv/bin/maturin" build --locked --release --quiet --out dist --interpreter "$venv/bin/python"
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps dist/policyc-*.whl
"$venv/bin/python" -m pytest -q -p no:cacheprovider
