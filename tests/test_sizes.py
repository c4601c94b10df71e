"""Size tiers: generated cases reach the sizes where real code changes path, within the caps;
real layer shapes respect claims; a declared size limit is honoured and reported."""
import math

import pytest
from hypothesis import Phase, find, given, settings

from conformance import sizes
from conformance.capabilities import FEATURES, Capabilities
from conformance.ops import OPS
from conformance.runner import PASSED, run_check
from conformance.impls import im2col_strided

EVERYTHING = {op: frozenset(features) for op, features in FEATURES.items()}


def _strategy(op):
    return OPS[op].strategy(EVERYTHING[op], tier=sizes.LARGE)


def _reach(op, predicate):
    """The first case found that satisfies predicate; fails the test when none is reachable."""
    return find(_strategy(op), predicate, settings=settings(
        max_examples=20000, database=None, phases=[Phase.generate]))


@pytest.mark.parametrize("what,op,predicate", [
    ("65 channels per group", "conv2d", lambda c: c.channels // c.groups >= 65),
    ("65 filters per group", "conv2d", lambda c: c.filters // c.groups >= 65),
    ("height 65", "conv2d", lambda c: c.height >= 65),
    ("width 65", "conv2d", lambda c: c.width >= 65),
    ("batch 17", "conv2d", lambda c: c.batch >= 17),
    ("depthwise with 33 channels", "conv2d", lambda c: c.groups == c.channels >= 33),
    ("pool height 65", "pool2d", lambda c: c.height >= 65),
    ("pool 65 channels", "pool2d", lambda c: c.channels >= 65),
    ("pool batch 17", "pool2d", lambda c: c.batch >= 17),
    ("2049 linear features", "linear", lambda c: c.shape[1] >= 2049),
    ("1025 linear outputs", "linear", lambda c: c.out_features >= 1025),
    ("2049 classes", "softmax_cross_entropy", lambda c: c.shape[1] >= 2049),
    ("batch norm over 65 channels", "batchnorm2d", lambda c: c.channels >= 65),
    ("batch norm batch 17", "batchnorm2d", lambda c: c.batch >= 17),
])
def test_strategies_reach_sizes_past_the_thresholds(what, op, predicate):
    assert predicate(_reach(op, predicate)), what


@pytest.mark.parametrize("op", ["conv2d", "pool2d", "linear", "softmax", "relu",
                                "softmax_cross_entropy", "flatten", "batchnorm2d"])
def test_strategies_reach_arrays_past_2_17_elements(op):
    record = OPS[op]
    case = _reach(op, lambda c: sizes.largest_array(record, c) > 2**17)
    assert sizes.largest_array(record, case) > 2**17


@pytest.mark.parametrize("op,term", [("conv2d", "out"), ("conv2d", "weight"), ("linear", "out"),
                                     ("softmax_cross_entropy", "out")])
def test_strategies_reach_reductions_past_2000_products(op, term):
    record = OPS[op]
    case = _reach(op, lambda c: record.terms(c)[term] > 2000)
    assert record.terms(case)[term] > 2000


@settings(max_examples=300, database=None)
@given(_strategy("conv2d"))
def test_conv2d_cases_stay_within_the_caps(case):
    record = OPS["conv2d"]
    _, f, ho, wo = record.out_shape(case)
    assert min(case.height, case.width, ho, wo) >= 1
    assert sizes.largest_array(record, case) <= sizes.MAX_ELEMENTS
    products = case.batch * f * ho * wo * (case.channels // case.groups) * math.prod(case.kernel)
    assert products <= sizes.MAX_PRODUCTS


@settings(max_examples=300, database=None)
@given(_strategy("pool2d"))
def test_pool2d_cases_stay_within_the_caps(case):
    assert sizes.largest_array(OPS["pool2d"], case) <= sizes.MAX_ELEMENTS


@pytest.mark.parametrize("op", ["conv2d", "pool2d", "linear", "softmax", "dropout",
                                "batchnorm2d"])
@pytest.mark.parametrize("claims", [{"float32", "max", "backward"},
                                    {"float64", "avg", "stride", "bias"},
                                    None])
def test_real_layers_use_only_claimed_features(op, claims):
    allowed = EVERYTHING[op] if claims is None else frozenset(claims) & EVERYTHING[op]
    for case in sizes.real_layers(op, allowed):
        assert OPS[op].features_of(case) <= allowed | {"ties"}


def test_real_layers_are_tried_by_every_property_check_but_tiny_ones():
    assert sizes.real_layers("conv2d", EVERYTHING["conv2d"])
    assert not sizes.real_layers("conv2d", EVERYTHING["conv2d"], tier=sizes.TINY)
    layouts = sizes.real_layers("pool2d", EVERYTHING["pool2d"], frozenset({"noncontiguous"}))
    assert layouts and all("noncontiguous" in OPS["pool2d"].features_of(c) for c in layouts)


class _Limited:
    """im2col_strided, declaring that it is certified up to 4096 elements per array only."""
    name = "limited"
    capabilities = Capabilities({"conv2d": FEATURES["conv2d"]}, max_elements=4096)
    conv2d_forward = staticmethod(im2col_strided.conv2d_forward)
    conv2d_backward = staticmethod(im2col_strided.conv2d_backward)


def test_a_declared_size_limit_skips_larger_cases_and_says_so():
    result = run_check(_Limited(), "limited", "conv2d", "forward", "ci")
    assert result.status == PASSED
    assert result.beyond_limit > 0
    assert 0 < result.largest_elements <= 4096


def test_large_tier_cases_run_and_are_reported_per_tier():
    result = run_check(im2col_strided, "im2col_strided", "conv2d", "grad_weight", "ci")
    assert result.status == PASSED
    assert result.tiers["large"]["cases"] >= 5
    assert result.largest_elements > 2**17 and result.longest_reduction > 2000
    assert 0 < result.tiers["large"]["worst_ratio"] < 1


def test_max_elements_must_be_a_positive_int():
    with pytest.raises(ValueError, match="max_elements"):
        Capabilities({}, max_elements=0)
