#!/usr/bin/env python3
"""Unit tests for the normalisation rules of gen.py (stdlib only).

Run: python3 -m unittest discover -s tools/regions
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen  # noqa: E402

PROVINCES = [
    {"code": "11", "name": "北京市"},
    {"code": "12", "name": "天津市"},
    {"code": "31", "name": "上海市"},
    {"code": "42", "name": "湖北省"},
    {"code": "44", "name": "广东省"},
    {"code": "50", "name": "重庆市"},
    {"code": "62", "name": "甘肃省"},
]
CITIES = [
    {"code": "1101", "name": "市辖区", "provinceCode": "11"},
    {"code": "1201", "name": "市辖区", "provinceCode": "12"},
    {"code": "3101", "name": "市辖区", "provinceCode": "31"},
    {"code": "4201", "name": "武汉市", "provinceCode": "42"},
    {"code": "4290", "name": "省直辖县级行政区划", "provinceCode": "42"},
    {"code": "4419", "name": "东莞市", "provinceCode": "44"},
    {"code": "5001", "name": "市辖区", "provinceCode": "50"},
    {"code": "5002", "name": "县", "provinceCode": "50"},
    {"code": "6201", "name": "兰州市", "provinceCode": "62"},
    {"code": "6202", "name": "嘉峪关市", "provinceCode": "62"},
]


def area(code, name):
    return {"code": code, "name": name, "cityCode": code[:4], "provinceCode": code[:2]}


AREAS = [
    area("110105", "朝阳区"),
    area("120101", "和平区"),
    area("310101", "黄浦区"),
    area("420102", "江岸区"),
    area("420171", "武汉经济技术开发区"),
    area("429004", "仙桃市"),
    area("441900", "东莞市"),
    area("500101", "万州区"),
    area("500229", "城口县"),
    area("620103", "七里河区"),
    area("620201", "嘉峪关市"),
]


def run(areas=AREAS, cities=CITIES, **kw):
    rows, _ = gen.build_rows(PROVINCES, cities, areas, **kw)
    return {r[0]: r for r in rows}


class NormalisationTests(unittest.TestCase):
    def test_municipality_is_one_prefecture(self):
        rows = run()
        self.assertEqual(rows["110100"], ("110100", "prefecture", "北京市", "110100", "110000"))
        self.assertEqual(rows["110105"][3], "110100")
        self.assertEqual(rows["500101"][3], "500100")
        self.assertEqual(rows["500229"][3], "500100")
        self.assertNotIn("500200", rows)
        self.assertFalse(any(r[2] in ("市辖区", "县") for r in rows.values()))

    def test_directly_administered_county_is_its_own_prefecture(self):
        rows = run()
        self.assertEqual(rows["429004"], ("429004", "county", "仙桃市", "429004", "420000"))
        self.assertNotIn("429000", rows)

    def test_city_without_counties_is_single_prefecture_row(self):
        rows = run()
        self.assertEqual(rows["441900"], ("441900", "prefecture", "东莞市", "441900", "440000"))
        self.assertEqual(rows["620200"], ("620200", "prefecture", "嘉峪关市", "620200", "620000"))
        self.assertNotIn("620201", rows)

    def test_ordinary_hierarchy_and_province_rows(self):
        rows = run()
        self.assertEqual(rows["620103"], ("620103", "county", "七里河区", "620100", "620000"))
        self.assertEqual(rows["620000"], ("620000", "province", "甘肃省", "", "620000"))
        self.assertEqual(list(rows), sorted(rows))

    def test_statistical_zones(self):
        self.assertNotIn("420171", run())
        self.assertIn("420171", run(include_zones=True))

    def test_province_mismatch_is_rejected(self):
        bad = AREAS + [{"code": "620104", "name": "西固区", "cityCode": "6201", "provinceCode": "63"}]
        with self.assertRaises(gen.SourceError):
            run(areas=bad)

    def test_town_level_codes_are_ignored(self):
        rows = run(areas=AREAS + [area("441900003", "东城街道")])
        self.assertNotIn("441900003", rows)
        self.assertEqual(rows["441900"][1], "prefecture")

    def test_malformed_codes_are_rejected(self):
        with self.assertRaises(gen.SourceError):
            run(areas=AREAS + [area("62010", "x")])

    def test_render_is_deterministic(self):
        rows, _ = gen.build_rows(PROVINCES, CITIES, AREAS)
        text = gen.render("test", rows)
        self.assertEqual(text, gen.render("test", list(rows)))
        self.assertTrue(text.startswith("# edition: test\n" + gen.HEADER + "\n110000\t"))


if __name__ == "__main__":
    unittest.main()
