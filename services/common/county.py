"""Reference facts about Gutian County that every service validates against."""

from __future__ import annotations

from typing import Literal, get_args

# The 14 township institutes (乡镇新时代文明实践所) under the county centre.
Township = Literal[
    "城东街道",
    "城西街道",
    "平湖镇",
    "大桥镇",
    "黄田镇",
    "鹤塘镇",
    "杉洋镇",
    "凤都镇",
    "水口镇",
    "大甲镇",
    "吉巷乡",
    "泮洋乡",
    "凤埔乡",
    "卓洋乡",
]
TOWNSHIPS: tuple[str, ...] = get_args(Township)

COUNTY = "古田县"
