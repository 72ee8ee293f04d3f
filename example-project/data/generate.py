"""Deterministic generator of the example's card-transaction data (about 2% fraud).

    python data/generate.py            # writes data/transactions.csv
    python data/generate.py --rows 1000 --output /tmp/small.csv
    python data/generate.py --feed drifted --rows 5000 --seed 11 --output /tmp/feed.csv
    python data/generate.py --rows 4000 --seed 8 --first-id 40000 --output /tmp/batch.csv

Each transaction has its own id; a batch appended to the data names its first id
(`--first-id`, the number of rows already there), so ids stay unique (the schema checks it).

A simulated production feed (`--feed`): `normal` is more of the same (other seeds, no drift);
`drifted` shifts amounts, account ages and foreign use and brings a merchant category the
training data never had; `broken` breaks the schema: a dropped column, a type change, an
out-of-range value, a new category, a spike of missing values and a flipped label balance.

The same seed gives byte-identical output; a test checks the committed file against it.
Fraud is driven by amount, night-time hours, foreign use, new accounts and distance from
home, with the same mechanism in every region, so a fair model is possible.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

COLUMNS = [
    "transaction_id",
    "amount",
    "hour",
    "merchant_category",
    "is_international",
    "account_age_days",
    "distance_from_home_km",
    "region",
    "is_fraud",
]
CATEGORIES = ["grocery", "fuel", "restaurant", "online_retail", "electronics", "travel", "gaming"]
CATEGORY_RISK = np.array([-1.0, -0.6, -0.8, 0.6, 1.0, 0.5, 0.9])
REGIONS = ["north", "south", "east", "west"]


def generate(rows: int, seed: int = 7, first_id: int = 0) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    region = rng.choice(len(REGIONS), size=rows, p=[0.3, 0.25, 0.25, 0.2])
    category = rng.choice(len(CATEGORIES), size=rows, p=[0.3, 0.15, 0.2, 0.15, 0.08, 0.07, 0.05])
    amount = np.round(rng.lognormal(mean=3.6 + 0.1 * region, sigma=0.9, size=rows), 2)
    hour = rng.integers(0, 24, size=rows)
    international = rng.random(rows) < 0.08
    age = rng.gamma(shape=2.0, scale=400.0, size=rows).astype(int) + 1
    distance = np.round(rng.exponential(scale=15.0, size=rows), 1)

    night = (hour <= 4) | (hour >= 23)
    risk = (
        1.4 * (np.log(amount) - 4.0)
        + 1.6 * night
        + 1.5 * international
        + 1.3 * (age < 90)
        + 0.05 * np.minimum(distance, 80.0)
        + CATEGORY_RISK[category]
    )
    # The cut-off keeps fraud near 2%; a little noise keeps the problem from being trivial.
    fraud = risk + rng.normal(0.0, 0.1, size=rows) > 4.75
    return [
        [
            f"t{first_id + i:06d}",
            f"{amount[i]:.2f}",
            int(hour[i]),
            CATEGORIES[category[i]],
            int(international[i]),
            int(age[i]),
            f"{distance[i]:.1f}",
            REGIONS[region[i]],
            int(fraud[i]),
        ]
        for i in range(rows)
    ]


def drift(rows: list[list[object]], seed: int) -> list[list[object]]:
    """Production has moved: bigger amounts, newer accounts, more foreign use, and crypto."""
    rng = np.random.default_rng(seed + 1)
    for row in rows:
        row[1] = f"{float(str(row[1])) * 1.8:.2f}"
        row[5] = int(str(row[5])) // 3 + 1
        row[4] = 1 if rng.random() < 0.3 else row[4]
        row[3] = "crypto" if rng.random() < 0.25 else row[3]
    return rows


def break_schema(rows: list[list[object]], seed: int) -> tuple[list[str], list[list[object]]]:
    """Every kind of violation validate-data must catch, at once."""
    rng = np.random.default_rng(seed + 2)
    for i, row in enumerate(rows):
        row[5] = "unknown" if i % 50 == 0 else row[5]  # account_age_days: a type change
        row[1] = "-12.50" if i % 97 == 0 else row[1]  # amount: out of range
        row[3] = "crypto" if i % 10 == 0 else row[3]  # merchant_category: a new category
        row[2] = "" if rng.random() < 0.4 else row[2]  # hour: a spike of missing values
        row[8] = 1 if rng.random() < 0.6 else 0  # is_fraud: the label balance flipped
    dropped = COLUMNS.index("distance_from_home_km")
    return (
        [c for j, c in enumerate(COLUMNS) if j != dropped],
        [[v for j, v in enumerate(row) if j != dropped] for row in rows],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", default=str(Path(__file__).with_name("transactions.csv")))
    parser.add_argument("--feed", choices=["normal", "drifted", "broken"], default="normal")
    parser.add_argument("--first-id", type=int, default=0, help="the first transaction's number")
    args = parser.parse_args()
    header, rows = COLUMNS, generate(args.rows, args.seed, args.first_id)
    if args.feed == "drifted":
        rows = drift(rows, args.seed)
    elif args.feed == "broken":
        header, rows = break_schema(rows, args.seed)
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
