"""Column types shared by the models."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

# BIGINT primary keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Money and every other stored figure: an integer count of the metric's minor unit (fen for CNY).
Minor = BigInteger
