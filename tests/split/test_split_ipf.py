"""IPF: a positive seed raked to any consistent margins matches them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from attain.split.ipf import fit_margins


@st.composite
def seeds_and_margins(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    size = int(np.prod(shape))
    seed = np.array(draw(st.lists(st.floats(0.01, 100), min_size=size, max_size=size))).reshape(shape)
    total = draw(st.floats(1, 1e6))
    margins = []
    for n in shape:
        weights = np.array(draw(st.lists(st.floats(0.01, 10), min_size=n, max_size=n)))
        margins.append(weights / weights.sum() * total)
    return seed, margins


@settings(max_examples=150, deadline=None)
@given(seeds_and_margins())
def test_fit_margins_matches_every_margin(case):
    seed, margins = case
    # Near-degenerate seeds (odds ratios of 1e8) converge slowly, hence the generous cap.
    fit = fit_margins(seed, margins, tolerance=1e-6, max_iterations=20_000)
    for axis, margin in enumerate(margins):
        others = tuple(a for a in range(seed.ndim) if a != axis)
        assert_allclose(fit.cells.sum(axis=others), margin, rtol=1e-9, atol=1e-5)
    assert fit.max_margin_error <= 1e-5


def test_fit_margins_keeps_the_seed_pattern_when_margins_already_match():
    seed = np.array([[1.0, 3.0], [2.0, 6.0]])
    fit = fit_margins(seed, [seed.sum(axis=1), seed.sum(axis=0)])
    assert_allclose(fit.cells, seed)
    assert fit.iterations == 1


def test_fit_margins_does_not_modify_the_seed():
    seed = np.ones((2, 2))
    fit_margins(seed, [np.array([3.0, 1.0]), np.array([2.0, 2.0])])
    assert_allclose(seed, np.ones((2, 2)))


def test_fit_margins_stops_early_when_the_pattern_cannot_fit():
    seed = np.array([[1.0, 0.0], [0.0, 1.0]])  # row 0 only in column 0, but it needs more than column 0 holds
    fit = fit_margins(seed, [np.array([3.0, 1.0]), np.array([2.0, 2.0])], max_iterations=10_000)
    assert fit.iterations < 200
    assert fit.max_margin_error > 0.5
