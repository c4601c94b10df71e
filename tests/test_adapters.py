"""conformance.adapters: an example written in each style certifies through its adapter, and the
same example with one gradient bug, in the same style, fails through it."""
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from conformance import Capabilities, adapters
from conformance.runner import FAILED, PASSED, run_check
from conformance.suite import checks_for
from examples.styles import (adapted, column_bias, in_out_weights, layer_classes, nhwc_layers,
                             single_image)

ROOT = Path(__file__).resolve().parents[1]
STYLES = {   # adapted implementation in examples/styles/adapted.py: the ops it claims
    "nhwc": ("conv2d", "pool2d"),
    "in_out": ("conv2d",),
    "column": ("conv2d",),
    "single": ("conv2d", "pool2d"),
    "layers": ("conv2d", "pool2d", "relu", "flatten", "linear", "softmax_cross_entropy",
               "network"),
}
GRADIENT_CHECKS = {"grad_x", "grad_weight", "grad_bias", "grad_logits", "gradients", "adjoint",
                   "finite_difference", "jacobian"}


def _results(impl, ops, profile="dev"):
    return {(op, spec.name): run_check(impl, "test", op, spec.name, profile)
            for op in ops for spec in checks_for(op)}


@pytest.mark.parametrize("style", STYLES)
def test_each_style_certifies_through_its_adapter(style):
    impl = getattr(adapted, style)
    results = _results(impl, STYLES[style])
    failed = {key: r.message for key, r in results.items() if r.status == FAILED}
    assert not failed
    for op in STYLES[style]:
        assert results[(op, "forward")].status == PASSED
        assert any(r.status == PASSED for (o, check), r in results.items()
                   if o == op and check in GRADIENT_CHECKS)


def test_certify_passes_whole_ops_under_the_ci_profile(tmp_path):
    """conv2d and pool2d of the channels-last example, every check under ci, through two
    composed adapters, by import path in the certify command's worker processes."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", "examples.styles.adapted:nhwc",
         "--profile", "ci", "--reports", str(tmp_path)], cwd=ROOT, capture_output=True,
        text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stdout
    assert ("nhwc_layers: CERTIFIED: conv2d certified for backward, bias, float32, float64, "
            "noncontiguous, padding, rectangular_kernel, "
            "rectangular_padding, rectangular_stride, stride, validation; pool2d certified for "
            "avg, backward, float32, float64, max, noncontiguous, padding, rectangular_kernel, "
            "rectangular_padding, rectangular_stride, stride, validation") in done.stdout


def variant(module, **replaced):
    """The example module with some of its functions replaced: the same style, one bug."""
    return types.SimpleNamespace(**{**vars(module), **replaced})


def _nhwc_weight_grad_flipped(dout, cache):
    """Weight gradient of a true convolution (kernel flipped) while the forward correlates."""
    grad_x, grad_weight, grad_bias = nhwc_layers.conv2d_backward(dout, cache)
    return grad_x, grad_weight[::-1, ::-1].copy(), grad_bias


def _in_out_weight_grad_last_sample(dout, cache):
    """Weight gradient of the last sample only, not summed over the batch."""
    grad_x, _, grad_bias = in_out_weights.conv2d_backward(dout, cache)
    xpad, *rest = cache
    _, grad_weight, _ = in_out_weights.conv2d_backward(dout[-1:], (xpad[-1:], *rest))
    return grad_x, grad_weight, grad_bias


def _column_bias_grad_averaged(dout, cache):
    """Bias gradient averaged over the batch and positions instead of summed."""
    grad_x, grad_weight, grad_bias = column_bias.conv2d_backward(dout, cache)
    if grad_bias is not None:
        grad_bias = grad_bias / (dout.size // dout.shape[1])
    return grad_x, grad_weight, grad_bias


def _single_stride_ignored_in_grad_x(dout, cache):
    """The input gradient scatters each window as if the stride were 1."""
    xpad, weight, has_bias, stride, padding = cache
    grad_x, _, _ = single_image.conv2d_backward(dout, (xpad, weight, has_bias, (1, 1), padding))
    _, grad_weight, grad_bias = single_image.conv2d_backward(dout, cache)
    return grad_x, grad_weight, grad_bias


class DenseUpdatingFirst(layer_classes.Dense):
    """Hands its gradients to the optimizer first, then computes dx from the updated W."""

    def backward(self, dout):
        self.optimizer.update(self.W, dout.T @ self.x)
        if self.b is not None:
            self.optimizer.update(self.b, dout.sum(axis=0))
        return dout @ self.W


class ConvBiasFirstSample(layer_classes.Conv2D):
    """Keeps db summed over the first sample only."""

    def backward(self, dout):
        dx = super().backward(dout)
        if self.b is not None:
            self.db = dout[0].sum(axis=(1, 2))
        return dx


BUGS = {
    "nhwc": (adapters.channels_last(adapters.weight_layout(
        variant(nhwc_layers, conv2d_backward=_nhwc_weight_grad_flipped), conv2d="HWIO")),
        "conv2d", "grad_weight"),
    "in_out": (adapters.weight_layout(
        variant(in_out_weights, conv2d_backward=_in_out_weight_grad_last_sample),
        conv2d="IOHW"), "conv2d", "grad_weight"),
    "column": (adapters.column_bias(
        variant(column_bias, conv2d_backward=_column_bias_grad_averaged)), "conv2d",
        "grad_bias"),
    "single": (adapters.single_image(
        variant(single_image, conv2d_backward=_single_stride_ignored_in_grad_x)), "conv2d",
        "grad_x"),
    "layers, gradient attributes": (adapters.layer_classes(
        layer_classes, conv2d=lambda weight, bias, *, stride, padding, dilation, groups:
        ConvBiasFirstSample(weight, bias, stride, padding)), "conv2d", "grad_bias"),
    "layers, optimizer": (adapters.layer_classes(
        layer_classes, linear=lambda weight, bias, *, optimizer:
        DenseUpdatingFirst(weight, bias, optimizer)), "linear", "grad_x"),
}


@pytest.mark.parametrize("style", BUGS)
def test_a_gradient_bug_in_each_style_fails_through_its_adapter(style):
    impl, op, check = BUGS[style]
    result = run_check(impl, "test", op, check, "dev")
    assert result.status == FAILED and result.mismatch, result.message   # a wrong value


def _affine_forward(x, w, b):
    """A linear layer written out = x @ w + b, with w of shape (in, out)."""
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x (N, in) and weight (in, out) do not fit: {x.shape}, {w.shape}")
    if b is not None and b.shape != w.shape[1:]:
        raise ValueError(f"bias must have shape ({w.shape[1]},), got {b.shape}")
    return x @ w + (0 if b is None else b), (x.copy(), w.copy(), b is not None)


def _affine_backward(dout, cache):
    x, w, has_bias = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0) if has_bias else None


AFFINE = types.SimpleNamespace(name="affine", linear_forward=_affine_forward,
                               linear_backward=_affine_backward,
                               capabilities=Capabilities({"linear": {
                                   "float64", "float32", "bias", "noncontiguous", "backward"}}))


def test_a_linear_weight_stored_in_out_certifies_and_its_bug_fails():
    impl = adapters.weight_layout(AFFINE, linear="IO")
    results = _results(impl, ("linear",))
    assert all(r.status != FAILED for r in results.values()), results
    assert results[("linear", "grad_weight")].status == PASSED

    def weight_grad_averaged(dout, cache):
        grad_x, grad_w, grad_b = _affine_backward(dout, cache)
        return grad_x, grad_w / len(dout), grad_b

    buggy = adapters.weight_layout(variant(AFFINE, linear_backward=weight_grad_averaged),
                                   linear="IO")
    result = run_check(buggy, "test", "linear", "grad_weight", "dev")
    assert result.status == FAILED and result.mismatch


def test_a_write_into_a_rearranged_input_is_not_hidden():
    def zeroes_first_channel(x, weight, bias, **params):
        x[..., 0] = 0
        return nhwc_layers.conv2d_forward(x, weight, bias, **params)

    impl = adapters.channels_last(adapters.weight_layout(
        variant(nhwc_layers, conv2d_forward=zeroes_first_channel), conv2d="HWIO"))
    assert run_check(impl, "test", "conv2d", "no_mutation", "dev").status == FAILED


def test_a_column_bias_gradient_of_the_wrong_shape_is_not_reshaped_into_the_right_one():
    def row_grad_bias(dout, cache):
        grad_x, grad_weight, grad_bias = column_bias.conv2d_backward(dout, cache)
        return grad_x, grad_weight, None if grad_bias is None else grad_bias[:, 0]

    impl = adapters.column_bias(variant(column_bias, conv2d_backward=row_grad_bias))
    result = run_check(impl, "test", "conv2d", "grad_bias", "dev")
    assert result.status == FAILED and "grad_bias must be a column (F, 1)" in result.message


@pytest.mark.parametrize("style", STYLES)
def test_claims_and_name_pass_through_unchanged(style):
    impl = getattr(adapted, style)
    module = impl.wrapped.wrapped if style == "nhwc" else impl.wrapped
    assert impl.capabilities is module.capabilities
    assert impl.name == module.name


def test_unclaimed_features_are_refused_before_the_wrapped_code_runs():
    calls = []
    impl = adapters.single_image(variant(single_image,
                                         conv2d_forward=lambda *a, **k: calls.append(a)))
    x, weight = np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3, 3))
    with pytest.raises(NotImplementedError, match="dilation"):
        impl.conv2d_forward(x, weight, None, stride=(1, 1), padding=(0, 0), dilation=(2, 2),
                            groups=1)
    assert calls == []


def test_calls_outside_declared_limits_are_refused_before_the_wrapped_code_runs():
    calls = []
    limited = Capabilities({op: single_image.capabilities.claimed(op)
                            for op in single_image.capabilities.ops},
                           limits={"conv2d": {"square_input"}, "pool2d": {"odd_kernel"}})
    impl = adapters.single_image(variant(single_image, capabilities=limited))
    for op, limit in (("conv2d", "square_input"), ("pool2d", "odd_kernel")):
        result = run_check(impl, "test", op, "not_claimed", "dev")
        assert result.status == PASSED and result.examples >= 1, result.message
    spy = adapters.single_image(variant(single_image, capabilities=limited,
                                        conv2d_forward=lambda *a, **k: calls.append(a)))
    x, weight = np.zeros((1, 2, 5, 6)), np.zeros((2, 2, 3, 3))
    with pytest.raises(NotImplementedError, match=r"outside the declared limit\(s\) "
                                                  r"\['square_input'\]"):
        spy.conv2d_forward(x, weight, None, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                           groups=1)
    assert calls == []


def test_bad_adapter_arguments_are_named():
    with pytest.raises(ValueError, match="conv2d: layout must be an order of the letters"):
        adapters.weight_layout(nhwc_layers, conv2d="HWI")
    with pytest.raises(TypeError, match="conv3d"):
        adapters.layer_classes(layer_classes, conv3d=layer_classes.Conv2D)
