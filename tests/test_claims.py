"""Honest claims for restricted code: rectangularity per pair, declared limits, validation as a
claim of its own, and require() called before the validation raising no false alarm."""
import json
import re
import subprocess
import sys
import types

import numpy as np
import pytest

from conformance import Capabilities
from conformance.capabilities import features_used
from conformance.impls import naive
from conformance.ops import OPS
from conformance.runner import FAILED, NOT_CLAIMED, PASSED, run_check
from conformance.suite import checks_for
from examples.restricted import square_exact
from tests.run_cli import ROOT

SPEC = "examples.restricted.square_exact"


def _copy(module, capabilities):
    """A fresh copy of ``module`` whose functions see ``capabilities``."""
    copy = types.ModuleType(module.__name__)
    copy.__file__ = module.__file__
    exec(compile(open(module.__file__).read(), module.__file__, "exec"), copy.__dict__)
    copy.capabilities = capabilities
    return copy


def test_a_restricted_implementation_certifies_for_exactly_its_claims_and_states_its_limits(
        tmp_path):
    done = subprocess.run([sys.executable, "-m", "conformance", "certify", SPEC, "--profile",
                           "dev", "--reports", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("conv2d certified for backward, bias, float32, float64, noncontiguous, padding, "
            "rectangular_kernel, stride (limited to: exact_division, square_input)") in done.stdout
    assert "conv2d limited to exact_division: the stride divides H + 2 * padding" in done.stdout
    report = json.loads((tmp_path / "square_exact.json").read_text())
    assert report["limits"] == {"conv2d": ["exact_division", "square_input"],
                                "pool2d": ["exact_division", "square_input"]}
    assert report["ops"]["pool2d"]["limited_to"] == ["exact_division", "square_input"]
    rows = {(r["op"], r["check"]): r["status"] for r in report["results"]}
    assert rows[("conv2d", "error_inputs")] == rows[("pool2d", "error_inputs")] == NOT_CLAIMED
    assert "limited to" in (tmp_path / "square_exact.md").read_text()


@pytest.mark.parametrize("op", ["conv2d", "pool2d"])
def test_the_same_code_without_its_limits_fails_outside_them(op):
    """The limits are what the code needs: undeclared, a non-square or not exactly divided case
    fails, so the certificate above is no accident of the strategies."""
    unlimited = _copy(square_exact, Capabilities(
        {name: square_exact.capabilities.claimed(name) for name in ("conv2d", "pool2d")}))
    result = run_check(unlimited, SPEC, op, "grad_x", "dev")
    assert result.status == FAILED
    case = json.loads(result.case)
    h, w, (k, _), (s, _), (p, _) = (case["height"], case["width"], case["kernel"],
                                    case["stride"], case["padding"])
    assert h != w or (h + 2 * p - k) % s, case


@pytest.mark.parametrize("limits, case_holds", [
    ({"square_input"}, lambda c: c.height == c.width),
    ({"batch_one"}, lambda c: c.batch == 1),
    ({"odd_kernel"}, lambda c: all(k % 2 for k in c.kernel)),
    ({"exact_division"}, lambda c: all((n + 2 * p - (d * (k - 1) + 1)) % s == 0 for n, k, s, p, d in
                                       zip((c.height, c.width), c.kernel, c.stride, c.padding,
                                           c.dilation))),
    ({"same_padding"}, lambda c: c.stride == (1, 1) and all(
        2 * p == d * (k - 1) for k, p, d in zip(c.kernel, c.padding, c.dilation))),
])
def test_every_case_a_check_runs_lies_within_the_declared_limits(limits, case_holds):
    seen = []

    def forward(x, weight, bias, **params):
        capabilities.require("conv2d", x=x, weight=weight, bias=bias, **params)
        seen.append(1)
        return naive.conv2d_forward(x, weight, bias, **params)

    capabilities = Capabilities({"conv2d": naive.capabilities.claimed("conv2d")},
                                limits={"conv2d": limits})
    impl = types.SimpleNamespace(capabilities=capabilities, conv2d_forward=forward,
                                 conv2d_backward=naive.conv2d_backward)
    cases = []
    for check in ("forward", "grad_x"):
        result = run_check(impl, "test", "conv2d", check, "dev",
                           on_case=lambda text: cases.append(json.loads(text)))
        assert result.status == PASSED, (check, result.message)
    assert len(cases) >= 50 and seen
    for text in cases:
        case = OPS["conv2d"].case_from_json(json.dumps(text))
        assert case_holds(case), text


def test_unknown_or_malformed_limits_are_one_line_errors():
    with pytest.raises(ValueError, match=r"unknown conv2d limits \['square'\]; known: "
                                         r"\['square_input'"):
        Capabilities({"conv2d": {"float64"}}, limits={"conv2d": {"square"}})
    with pytest.raises(ValueError, match="unknown relu limits .* known: none"):
        Capabilities({"relu": {"float64"}}, limits={"relu": {"batch_one"}})
    with pytest.raises(ValueError, match="must be a set of names, got the string 'batch_one'"):
        Capabilities({"conv2d": {"float64"}}, limits={"conv2d": "batch_one"})


def test_require_refuses_a_call_outside_a_limit_and_leaves_malformed_calls_to_validation():
    caps = Capabilities({"pool2d": {"float64", "max", "stride"}},
                        limits={"pool2d": {"exact_division"}})
    x = np.zeros((1, 1, 6, 6))
    call = dict(x=x, mode="max", kernel_size=(3, 3), stride=(2, 2), padding=(0, 0))
    with pytest.raises(NotImplementedError, match=r"outside the declared limit\(s\) "
                                                  r"\['exact_division'\]"):
        caps.require("pool2d", **call)
    caps.require("pool2d", **{**call, "x": np.zeros((1, 1, 7, 7))})
    caps.require("pool2d", **{**call, "stride": (0, 2)})     # invalid: the validation's


FEW = {"float64", "stride", "padding", "backward"}


@pytest.mark.parametrize("op, limits, claims", [
    ("conv2d", {"square_input"}, FEW), ("conv2d", {"batch_one"}, FEW),
    ("conv2d", {"odd_kernel"}, FEW), ("conv2d", {"exact_division"}, FEW),
    ("conv2d", {"same_padding"}, FEW), ("pool2d", {"square_input"}, FEW | {"max"}),
    ("pool2d", {"batch_one"}, FEW | {"avg"}), ("pool2d", {"odd_kernel"}, FEW | {"max"}),
    ("pool2d", {"exact_division"}, FEW | {"max"}),
    ("conv2d", {"square_input", "exact_division"}, None),     # None: every feature naive has
    ("pool2d", {"square_input", "exact_division", "batch_one", "odd_kernel"}, None),
    ("conv2d", {"odd_kernel", "same_padding"}, None),          # an even kernel, dilation 2
])
def test_a_call_outside_a_declared_limit_must_be_refused(op, limits, claims):
    """Declared limits that the code does not enforce fail not_claimed, once per limit, with
    calls of claimed features only; with require() they pass."""
    claims = naive.capabilities.claimed(op) if claims is None else frozenset(claims)
    capabilities = Capabilities({op: claims}, limits={op: limits})

    def refusing_forward(*args, **kwargs):
        capabilities.require(op, **dict(zip(("x", "weight", "bias"), args)), **kwargs)
        return getattr(naive, f"{op}_forward")(*args, **kwargs)

    serving = types.SimpleNamespace(capabilities=capabilities, **{
        f"{op}_{half}": getattr(naive, f"{op}_{half}") for half in ("forward", "backward")})
    result = run_check(serving, "test", op, "not_claimed", "dev")
    assert result.status == FAILED
    assert sorted(re.findall(r"outside the limit (\w+) \(", result.message)) == sorted(limits)
    refusing = types.SimpleNamespace(**{**vars(serving), f"{op}_forward": refusing_forward})
    result = run_check(refusing, "test", op, "not_claimed", "dev")
    assert result.status == PASSED, result.message


def test_a_limit_no_claimed_call_can_leave_is_not_tried():
    """Without the stride feature every call divides exactly: nothing to refuse."""
    capabilities = Capabilities({"conv2d": {"float64"}}, limits={"conv2d": {"exact_division"}})

    def forward(x, weight, bias, **params):   # refuses unclaimed features, never the limit
        if features_used("conv2d", x=x, weight=weight, bias=bias, **params) - {"float64"}:
            raise NotImplementedError("not claimed")
        return naive.conv2d_forward(x, weight, bias, **params)

    def backward(grad_out, cache):
        raise NotImplementedError("backward not claimed")

    unlimited = Capabilities({"conv2d": {"float64"}})
    runs = [run_check(types.SimpleNamespace(capabilities=caps, conv2d_forward=forward,
                                            conv2d_backward=backward),
                      "test", "conv2d", "not_claimed", "dev") for caps in (capabilities, unlimited)]
    assert [r.status for r in runs] == [PASSED, PASSED], runs[0].message
    assert runs[0].examples == runs[1].examples


# -- validation is a claim ------------------------------------------------------------------------

def test_unvalidated_code_certifies_its_math_with_validation_unclaimed_and_fails_claiming_it():
    assert run_check(square_exact, SPEC, "conv2d", "error_inputs", "dev").status == NOT_CLAIMED
    claiming = _copy(square_exact, Capabilities(
        {op: square_exact.capabilities.claimed(op) | {"validation"} for op in ("conv2d",
                                                                              "pool2d")},
        limits={"conv2d": {"square_input", "exact_division"}}))
    result = run_check(claiming, SPEC, "conv2d", "error_inputs", "dev")
    assert result.status == FAILED and "weight channels 3 for x channels 4" in result.message


# -- require first, then validate: no false alarm ---------------------------------------------

REQUIRE_FIRST = Capabilities({
    "conv2d": {"float64", "stride", "padding", "dilation", "groups", "bias", "backward",
               "validation"},
    "pool2d": {"float64", "max", "stride", "padding", "backward", "validation"}})


def _conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    REQUIRE_FIRST.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                          padding=padding, dilation=dilation, groups=groups)
    return naive.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)


def _pool2d_forward(x, *, mode, kernel_size, stride, padding):
    REQUIRE_FIRST.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                          padding=padding)
    return naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                padding=padding)


@pytest.mark.parametrize("op", ["conv2d", "pool2d"])
def test_require_before_validation_passes_every_check(op):
    """Invalid pairs such as stride (0, 1) are no rectangular stride, an unknown mode no
    feature: require lets them through to the validation, which rejects them as expected."""
    impl = types.SimpleNamespace(capabilities=REQUIRE_FIRST, conv2d_forward=_conv2d_forward,
                                 conv2d_backward=naive.conv2d_backward,
                                 pool2d_forward=_pool2d_forward,
                                 pool2d_backward=naive.pool2d_backward)
    for check in ("error_inputs", "not_claimed", "forward"):
        result = run_check(impl, "test", op, check, "dev")
        assert result.status == PASSED, (check, result.message)
    assert run_check(impl, "test", op, "error_inputs", "dev").examples >= 6


def test_each_rectangular_pair_is_its_own_claim():
    """Rectangular kernels with one stride: claimed and certified, while an unequal stride
    pair is refused as not claimed."""
    checks = [spec.name for spec in checks_for("conv2d")]
    assert "not_claimed" in checks
    result = run_check(square_exact, SPEC, "conv2d", "forward", "dev")
    assert result.status == PASSED and "rectangular_kernel" in result.features
    assert "rectangular_stride" not in result.features
    assert run_check(square_exact, SPEC, "conv2d", "not_claimed", "dev").status == PASSED


@pytest.mark.parametrize("limits, fewer", [({"batch_one", "square_input", "exact_division"}, 0),
                                           ({"same_padding"}, 4)])
def test_error_inputs_outside_the_declared_limits_are_not_made(limits, fewer):
    """With require() first, a call outside the limits raises NotImplementedError before the
    validation could reject it: such error inputs say nothing of the validation, so they are
    left out (the others still run)."""
    capabilities = Capabilities({"conv2d": REQUIRE_FIRST.claimed("conv2d")},
                                limits={"conv2d": limits})

    def forward(x, weight, bias, **params):
        capabilities.require("conv2d", x=x, weight=weight, bias=bias, **params)
        return naive.conv2d_forward(x, weight, bias, **params)

    impl = types.SimpleNamespace(capabilities=capabilities, conv2d_forward=forward,
                                 conv2d_backward=naive.conv2d_backward)
    everything = len(OPS["conv2d"].error_inputs(REQUIRE_FIRST.claimed("conv2d")))
    result = run_check(impl, "test", "conv2d", "error_inputs", "dev")
    assert result.status == PASSED, result.message
    assert result.examples == everything - fewer
