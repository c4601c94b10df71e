"""Validation bugs in the dense ops: arguments NumPy happens to accept are computed on, and the
ones it rejects raise its own errors, which name no parameter of the op."""
import numpy as np

from conformance.impls import dense
from conformance.impls.validation import check_dropout
from tests.corpus import Mutant
from tests.corpus._common import log_sum_exp_rows


def _relu_asarray_forward(x):
    x = np.asarray(x)                       # "accept array-likes" instead of validating
    dense.capabilities.require("relu", x=x)
    out = np.where(x < 0, x.dtype.type(0), x)
    return out, (x > 0, x.shape, x.dtype)


relu_coerces_input = Mutant(
    "relu_coerces_input", "relu converts x with np.asarray instead of validating it: a list is "
    "accepted, an int64 array is refused as an unclaimed feature instead of a TypeError",
    ("relu.error_inputs",), base=dense, relu_forward=_relu_asarray_forward)


def _sigmoid_asarray_forward(x):
    x = np.asarray(x)
    dense.capabilities.require("sigmoid", x=x)
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out.copy()


sigmoid_coerces_input = Mutant(
    "sigmoid_coerces_input", "sigmoid converts x with np.asarray instead of validating it: a list "
    "is accepted", ("sigmoid.error_inputs",),
    base=dense, sigmoid_forward=_sigmoid_asarray_forward)


def _tanh_unchecked_forward(x):
    out = np.asarray(np.tanh(x))            # np.tanh takes lists and integers alike
    return out, out.copy()


tanh_coerces_input = Mutant(
    "tanh_coerces_input", "tanh applies np.tanh to whatever it is given: a list or an int64 "
    "array is accepted", ("tanh.error_inputs",), base=dense, tanh_forward=_tanh_unchecked_forward)


def _softmax_numpy_axis_forward(x, *, axis):
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x must be a float32 or float64 numpy.ndarray, got {type(x).__name__}")
    dense.capabilities.require("softmax", x=x, axis=axis)
    x64 = x.astype(np.float64)
    m = x64.max(axis=axis, keepdims=True)   # axis handed to NumPy unchecked
    with np.errstate(under="ignore"):
        e = np.exp(x64 - m)
        y = e / e.sum(axis=axis, keepdims=True)
    return y.astype(x.dtype), (y, axis % x.ndim, x.dtype)


softmax_axis_unchecked = Mutant(
    "softmax_axis_unchecked", "softmax hands axis to NumPy unchecked: axis=1.0 raises NumPy's "
    "TypeError, which does not name the parameter", ("softmax.error_inputs",), base=dense,
    softmax_forward=_softmax_numpy_axis_forward)


def _linear_unchecked_forward(x, weight, bias):
    dense.capabilities.require("linear", x=x, weight=weight, bias=bias)
    out = x @ weight.T                      # matmul accepts a 1-D x and broadcasts a bias
    if bias is not None:
        out = out + bias
    return out, (x.copy(), weight.copy(), bias is not None)


linear_shapes_unchecked = Mutant(
    "linear_shapes_unchecked", "linear leaves shape checks to matmul: a 1-D x is accepted, and "
    "mismatched weight or bias shapes raise NumPy errors naming neither", ("linear.error_inputs",),
    base=dense, linear_forward=_linear_unchecked_forward)


def _flatten_unchecked_forward(x):
    dense.capabilities.require("flatten", x=x)
    out = x.reshape(x.shape[0], -1).copy()  # a 1-D x becomes (N, 1)
    return out, (x.shape, x.dtype)


flatten_ndim_unchecked = Mutant(
    "flatten_ndim_unchecked", "flatten never checks x.ndim: a 1-D x is accepted and returned as "
    "a column", ("flatten.error_inputs",), base=dense, flatten_forward=_flatten_unchecked_forward)


def _cross_entropy_unchecked_target_forward(logits, target):
    if not isinstance(logits, np.ndarray) or logits.ndim != 2:
        raise ValueError("logits must be a 2-D numpy.ndarray (N, K)")
    if not isinstance(target, np.ndarray) or target.shape != logits.shape[:1]:
        raise ValueError(f"target must have shape (N,) = ({logits.shape[0]},)")
    dense.capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    z = logits.astype(np.float64)
    lse, probs = log_sum_exp_rows(z)
    # target -1 picks the last class; K raises IndexError
    loss = np.mean(lse - z[np.arange(z.shape[0]), target])
    return np.array(loss, dtype=logits.dtype), (probs, target.copy(), logits.dtype)


cross_entropy_target_unchecked = Mutant(
    "cross_entropy_target_unchecked", "cross-entropy checks target's shape but not its dtype or "
    "range: -1 silently picks the last class, K raises IndexError",
    ("softmax_cross_entropy.error_inputs",), base=dense,
    softmax_cross_entropy_forward=_cross_entropy_unchecked_target_forward)


def _dropout_unchecked_p_forward(x, mask, *, p):
    check_dropout(x, mask, 0.0)             # x and mask checked; p taken as given
    dense.capabilities.require("dropout", x=x, mask=mask, p=p)
    keep = 1 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(x * mask / keep)
    return out, (mask.copy(), keep, x.dtype)


dropout_p_unchecked = Mutant(
    "dropout_p_unchecked", "dropout never checks p: p = 1 divides by zero and p < 0 scales the "
    "kept elements down", ("dropout.error_inputs",), base=dense,
    dropout_forward=_dropout_unchecked_p_forward)
