"""Replication positions as novaweb compares them: PostgreSQL LSNs and MariaDB GTID positions.

No database: these are the values the lag tracker and the causal-read cookie
hold (``novaweb.replication.Lsn`` / ``Gtid``). The servers' own comparison is
exercised on real replication in ``tests/deploy/test_replica.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novaweb.replication import Gtid, Lsn

lsns = st.integers(min_value=0, max_value=2**64 - 1)
# A GTID position: one (server, seqno) per replication domain.
positions = st.dictionaries(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.tuples(st.integers(min_value=1, max_value=2**32 - 1), st.integers(min_value=0, max_value=2**64 - 1)),
    max_size=4,
)


def gtid(position: dict) -> Gtid:
    return Gtid.parse(",".join(f"{d}-{s}-{n}" for d, (s, n) in position.items()))


@given(lsns)
def test_an_lsn_reads_back_as_postgresql_prints_it(value):
    text = str(Lsn(value))
    assert Lsn.parse(text).value == value
    high, low = text.split("/")
    assert high == high.upper() and low == low.upper()
    assert not (len(high) > 1 and high.startswith("0")) and not (len(low) > 1 and low.startswith("0"))


@given(lsns, lsns)
def test_an_lsn_covers_exactly_the_positions_at_or_before_it(a, b):
    assert Lsn(a).covers(Lsn(b)) == (a >= b)


@pytest.mark.parametrize(("text", "value"), [("0/3000060", 0x3000060), ("16/B374D848", (0x16 << 32) | 0xB374D848)])
def test_lsns_postgresql_printed(text, value):
    assert Lsn.parse(text).value == value
    assert str(Lsn.parse(text)) == text


@given(positions)
def test_a_gtid_position_reads_back(position):
    assert Gtid.parse(str(gtid(position))) == gtid(position)


@given(positions, positions)
def test_a_gtid_position_covers_another_when_every_domain_is_as_far(mine, theirs):
    expected = all(domain in mine and mine[domain][1] >= seq for domain, (_, seq) in theirs.items())
    assert gtid(mine).covers(gtid(theirs)) == expected


@given(positions)
def test_every_gtid_position_covers_the_empty_one_and_itself(position):
    assert gtid(position).covers(Gtid.parse(""))
    assert gtid(position).covers(gtid(position))


@pytest.mark.parametrize("text", ["0-1", "a-b-c", "0-1-2;DROP", "0-1-2,,x", "--", "0/1", "0-1--2", "\u0661-1-1"])
def test_a_malformed_gtid_position_is_refused(text):
    with pytest.raises(ValueError):
        Gtid.parse(text)


@pytest.mark.parametrize(
    "text", ["", "zz/1", "1", "1/2/3", "0x1/2", "-1/2", " 1/2", "1/123456789", "1/2\n", "\u0661/1"]
)
def test_a_malformed_lsn_is_refused(text):
    with pytest.raises(ValueError):
        Lsn.parse(text)
