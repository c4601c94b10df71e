"""Memory and state bugs of the dense ops and pooling: in-place writes into the caller's arrays,
results that share memory, layout assumptions, and state that outlives a call."""
import itertools
import math

import numpy as np

from conformance.impls import dense, naive
from conformance.impls.validation import (check_dropout, check_flatten, check_grad_loss,
                                          check_grad_out, check_linear, check_relu, check_sigmoid,
                                          check_softmax, check_softmax_cross_entropy, check_tanh)
from tests.corpus import Mutant
from tests.corpus._common import log_sum_exp_rows

# --- relu -----------------------------------------------------------------------------------


def _relu_reshaped_writes_forward(x):
    check_relu(x)
    dense.capabilities.require("relu", x=x)
    out = np.zeros_like(x)             # keeps x's memory layout (channels-last stays so)
    flat = out.reshape(-1)             # a copy, not a view, when out is not C-contiguous
    flat[:] = np.maximum(x.reshape(-1), 0)
    return out, (x > 0, x.shape, x.dtype)


relu_writes_into_reshaped_copy = Mutant(
    "relu_writes_into_reshaped_copy", "relu writes its result through out.reshape(-1) with out "
    "= np.zeros_like(x): for channels-last x the reshape is a copy and out stays zero",
    ("relu.layouts",), base=dense, relu_forward=_relu_reshaped_writes_forward)


# --- sigmoid --------------------------------------------------------------------------------

def _sigmoid_in_place_backward(grad_out, cache):
    s = cache
    check_grad_out(grad_out, s.shape, s.dtype)
    np.multiply(grad_out, s * (1 - s), out=grad_out)    # saves an allocation
    return grad_out


sigmoid_backward_in_place = Mutant(
    "sigmoid_backward_in_place", "sigmoid backward multiplies the caller's grad_out in place and "
    "returns it", ("sigmoid.no_mutation", "sigmoid.no_aliasing"), base=dense,
    sigmoid_backward=_sigmoid_in_place_backward)


def _sigmoid_memory_order_forward(x):
    check_sigmoid(x)
    dense.capabilities.require("sigmoid", x=x)
    flat = x.ravel(order="K")          # no copy: the elements in memory order
    e = np.exp(-np.abs(flat))
    out = np.where(flat >= 0, 1 / (1 + e), e / (1 + e)).reshape(x.shape)   # read back in C order
    return out, out.copy()


sigmoid_in_memory_order = Mutant(
    "sigmoid_in_memory_order", "sigmoid runs over x.ravel(order='K') (memory order) and reshapes "
    "the result in C order: channels-last inputs come back permuted", ("sigmoid.layouts",),
    base=dense, sigmoid_forward=_sigmoid_memory_order_forward)


_sigmoid_workspace = {}


def _sigmoid_workspace_forward(x):
    out, _ = dense.sigmoid_forward(x)
    key = (x.shape, x.dtype)
    if key not in _sigmoid_workspace:
        _sigmoid_workspace[key] = np.empty_like(out)
    saved = _sigmoid_workspace[key]
    saved[...] = out                   # the cache refers to a buffer the next call overwrites
    return out, saved


sigmoid_cache_in_shared_workspace = Mutant(
    "sigmoid_cache_in_shared_workspace", "sigmoid saves its output for the backward in a "
    "workspace reused by every forward of the same shape: a later forward changes an earlier "
    "backward", ("sigmoid.deterministic",), base=dense,
    sigmoid_forward=_sigmoid_workspace_forward)


# --- tanh -----------------------------------------------------------------------------------

def _tanh_in_place_forward(x):
    check_tanh(x)
    dense.capabilities.require("tanh", x=x)
    out = np.tanh(x, out=x)            # the caller's x now holds tanh(x)
    return out, out.copy()


tanh_in_place = Mutant(
    "tanh_in_place", "tanh forward writes tanh(x) into the caller's x (np.tanh(x, out=x)) and "
    "returns it", ("tanh.no_mutation", "tanh.no_aliasing"), base=dense,
    tanh_forward=_tanh_in_place_forward)


def _tanh_consuming_backward(grad_out, cache):
    t = cache
    check_grad_out(grad_out, t.shape, t.dtype)
    np.multiply(t, t, out=t)           # 1 - t * t computed in the cached t, to save memory
    np.subtract(1, t, out=t)
    return np.asarray(grad_out * t)


tanh_backward_overwrites_cache = Mutant(
    "tanh_backward_overwrites_cache", "tanh backward computes 1 - t * t in place in its cached "
    "output: a second backward on the same cache is wrong",
    ("tanh.deterministic", "tanh.jacobian"), base=dense, tanh_backward=_tanh_consuming_backward)


def _tanh_memory_order_forward(x):
    check_tanh(x)
    dense.capabilities.require("tanh", x=x)
    out = np.empty(x.shape, x.dtype)
    np.tanh(x.ravel(order="K"), out=out.reshape(-1))   # x in memory order, out in C order
    return out, out.copy()


tanh_in_memory_order = Mutant(
    "tanh_in_memory_order", "tanh reads x.ravel(order='K') (memory order) into a C-ordered "
    "output: channels-last inputs come back permuted", ("tanh.layouts",), base=dense,
    tanh_forward=_tanh_memory_order_forward)


# --- softmax --------------------------------------------------------------------------------

def _softmax_shift_in_place_forward(x, *, axis):
    ax = check_softmax(x, axis)
    dense.capabilities.require("softmax", x=x, axis=axis)
    x64 = np.asarray(x, np.float64)    # no copy when x is float64 already
    x64 -= x64.max(axis=ax, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(x64)
        y = e / e.sum(axis=ax, keepdims=True)
    return y.astype(x.dtype), (y, ax, x.dtype)


softmax_shifts_input_in_place = Mutant(
    "softmax_shifts_input_in_place", "softmax subtracts the maximum in place from "
    "np.asarray(x, float64), which is the caller's x when x is float64",
    ("softmax.no_mutation",), base=dense, softmax_forward=_softmax_shift_in_place_forward)


def _softmax_work_buffer_forward(x, *, axis):
    out, (y, ax, dtype) = dense.softmax_forward(x, axis=axis)
    return out, (y, ax, dtype, np.empty_like(y))


def _softmax_work_buffer_backward(grad_out, cache):
    y, axis, dtype, work = cache
    check_grad_out(grad_out, y.shape, dtype)
    g = grad_out.astype(np.float64)
    with np.errstate(under="ignore"):
        np.multiply(y, g - (g * y).sum(axis=axis, keepdims=True), out=work)
    return work.astype(dtype, copy=False)   # float64: the cached buffer itself


softmax_grad_in_cached_buffer = Mutant(
    "softmax_grad_in_cached_buffer", "softmax backward computes into a float64 work buffer kept "
    "in the cache and returns work.astype(dtype, copy=False): for float64 every backward returns "
    "that same buffer", ("softmax.no_aliasing",), base=dense,
    softmax_forward=_softmax_work_buffer_forward, softmax_backward=_softmax_work_buffer_backward)


def _softmax_consuming_backward(grad_out, cache):
    y, axis, dtype = cache
    check_grad_out(grad_out, y.shape, dtype)
    g = grad_out.astype(np.float64)
    with np.errstate(under="ignore"):
        np.multiply(y, g - (g * y).sum(axis=axis, keepdims=True), out=y)   # reuses the cache
    return y.astype(dtype)


softmax_backward_overwrites_cache = Mutant(
    "softmax_backward_overwrites_cache", "softmax backward multiplies into its cached y in place: "
    "a second backward on the same cache uses the first one's gradient as y",
    ("softmax.deterministic", "softmax.jacobian"), base=dense,
    softmax_backward=_softmax_consuming_backward)


def _softmax_memory_order_forward(x, *, axis):
    check_softmax(x, axis)
    x_c = x.flatten(order="K").reshape(x.shape)   # meant as a contiguous copy of x
    return dense.softmax_forward(x_c, axis=axis)


softmax_in_memory_order = Mutant(
    "softmax_in_memory_order", "softmax copies x with x.flatten(order='K') (memory order) and "
    "reshapes it in C order: channels-last inputs are normalised over the wrong elements",
    ("softmax.layouts",), base=dense, softmax_forward=_softmax_memory_order_forward)


# --- linear ---------------------------------------------------------------------------------

def _linear_uncopied_forward(x, weight, bias):
    out, (_, _, has_bias) = dense.linear_forward(x, weight, bias)
    return out, (x, weight, has_bias)   # references to the caller's arrays


def _linear_grad_x_into_cache_backward(grad_out, cache):
    x, weight, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_weight = grad_out.T @ x
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    grad_x = np.matmul(grad_out, weight, out=x)   # x is no longer needed: reuse its memory
    return grad_x, grad_weight, grad_bias


linear_grad_x_written_into_input = Mutant(
    "linear_grad_x_written_into_input", "linear caches x by reference and backward writes grad_x "
    "into it (np.matmul(..., out=x)), which is the caller's x",
    ("linear.no_mutation", "linear.no_aliasing"), base=dense,
    linear_forward=_linear_uncopied_forward, linear_backward=_linear_grad_x_into_cache_backward)


_thread_schedule = itertools.count()


def _linear_unordered_backward(grad_out, cache):
    x, weight, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_x = grad_out @ weight
    # One worker per sample adds its outer product as it finishes; the finishing order varies
    # from call to call (here: a rotation that changes with every call).
    order = np.roll(np.arange(x.shape[0]), next(_thread_schedule))
    grad_weight = np.zeros(weight.shape, x.dtype)
    for n in order:
        grad_weight += np.outer(grad_out[n], x[n])
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    return grad_x, grad_weight, grad_bias


linear_weight_grad_order_varies = Mutant(
    "linear_weight_grad_order_varies", "linear weight gradient summed over the batch in an order "
    "that changes from call to call (per-sample workers adding as they finish): the bits vary",
    ("linear.deterministic",), base=dense, linear_backward=_linear_unordered_backward)


def _linear_raw_buffer_forward(x, weight, bias):
    check_linear(x, weight, bias)
    dense.capabilities.require("linear", x=x, weight=weight, bias=bias)
    # The GEMM kernel takes a pointer and the dimensions: x's memory viewed as (N, in).
    x_mat = np.frombuffer(x, x.dtype).reshape(x.shape)
    out = x_mat @ weight.T
    if bias is not None:
        out += bias
    return out, (x.copy(), weight.copy(), bias is not None)


linear_hands_raw_buffer_to_gemm = Mutant(
    "linear_hands_raw_buffer_to_gemm", "linear passes x's memory to its GEMM as a C-ordered "
    "buffer (np.frombuffer), which non-contiguous x cannot provide: ValueError",
    ("linear.layouts",), base=dense, linear_forward=_linear_raw_buffer_forward)


# --- flatten --------------------------------------------------------------------------------

def _flatten_uncopied_forward(x):
    out, _ = dense.flatten_forward(x)
    return out, x                      # x itself, to know the shape and dtype


def _flatten_into_cache_backward(grad_out, cache):
    x = cache
    check_grad_out(grad_out, (x.shape[0], math.prod(x.shape[1:])), x.dtype)
    np.copyto(x, grad_out.reshape(x.shape))   # a buffer of the right shape and dtype: reused
    return x


flatten_grad_written_into_input = Mutant(
    "flatten_grad_written_into_input", "flatten caches x by reference and backward writes the "
    "gradient into it, which is the caller's x", ("flatten.no_mutation", "flatten.no_aliasing"),
    base=dense, flatten_forward=_flatten_uncopied_forward,
    flatten_backward=_flatten_into_cache_backward)


def _flatten_accumulating_forward(x):
    out, (shape, dtype) = dense.flatten_forward(x)
    return out, (shape, dtype, np.zeros(shape, dtype))


def _flatten_accumulating_backward(grad_out, cache):
    shape, dtype, grad = cache
    check_grad_out(grad_out, (shape[0], math.prod(shape[1:])), dtype)
    grad += grad_out.reshape(shape)    # accumulates, as parameter gradients do
    return grad.copy()


flatten_backward_accumulates = Mutant(
    "flatten_backward_accumulates", "flatten backward adds into a gradient buffer kept in the "
    "cache without zeroing it: a second backward returns twice the gradient",
    ("flatten.deterministic", "flatten.jacobian"), base=dense,
    flatten_forward=_flatten_accumulating_forward, flatten_backward=_flatten_accumulating_backward)


def _flatten_memory_order_forward(x):
    check_flatten(x)
    dense.capabilities.require("flatten", x=x)
    out = x.flatten(order="K").reshape(x.shape[0], -1)   # a copy in memory order
    return out, (x.shape, x.dtype)


flatten_in_memory_order = Mutant(
    "flatten_in_memory_order", "flatten copies x with x.flatten(order='K') (memory order): for "
    "channels-last x the features come out permuted", ("flatten.layouts",), base=dense,
    flatten_forward=_flatten_memory_order_forward)


# --- softmax_cross_entropy ------------------------------------------------------------------

def _cross_entropy_shift_in_place_forward(logits, target):
    check_softmax_cross_entropy(logits, target)
    dense.capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    z = np.asarray(logits, np.float64)      # no copy when logits are float64 already
    m = z.max(axis=1, keepdims=True)
    z -= m                                  # shifted in place: z is the caller's logits
    rows = np.arange(z.shape[0])
    with np.errstate(under="ignore"):
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[rows, target])
    return np.array(loss, dtype=logits.dtype), (e / s, target.copy(), logits.dtype)


cross_entropy_shifts_logits_in_place = Mutant(
    "cross_entropy_shifts_logits_in_place", "cross-entropy subtracts the row maximum in place "
    "from np.asarray(logits, float64), which is the caller's logits when they are float64",
    ("softmax_cross_entropy.no_mutation",), base=dense,
    softmax_cross_entropy_forward=_cross_entropy_shift_in_place_forward)


def _cross_entropy_precomputed_forward(logits, target):
    loss, (probs, target_copy, dtype) = dense.softmax_cross_entropy_forward(logits, target)
    grad = probs.copy()
    grad[np.arange(probs.shape[0]), target_copy] -= 1
    grad /= probs.shape[0]
    return loss, (grad, dtype)        # the gradient for grad_loss = 1, ready for the backward


def _cross_entropy_scale_cached_backward(grad_loss, cache):
    grad, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    with np.errstate(under="ignore"):
        grad *= g                       # scaled in place: the cache is changed
    return grad.astype(dtype, copy=False)


cross_entropy_grad_scaled_in_cache = Mutant(
    "cross_entropy_grad_scaled_in_cache", "cross-entropy precomputes (p - onehot) / N in the "
    "forward; backward scales it in place and returns it: every backward returns the same "
    "float64 buffer, scaled once more", ("softmax_cross_entropy.no_aliasing",
                                         "softmax_cross_entropy.deterministic"),
    base=dense, softmax_cross_entropy_forward=_cross_entropy_precomputed_forward,
    softmax_cross_entropy_backward=_cross_entropy_scale_cached_backward)


def _cross_entropy_probs_consumed_backward(grad_loss, cache):
    probs, target, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    diff = probs                        # meant probs.copy()
    diff[np.arange(probs.shape[0]), target] -= 1
    with np.errstate(under="ignore"):
        return (g * diff / probs.shape[0]).astype(dtype)


cross_entropy_backward_overwrites_probs = Mutant(
    "cross_entropy_backward_overwrites_probs", "cross-entropy backward subtracts the one-hot from "
    "the cached probabilities in place: a second backward subtracts it again",
    ("softmax_cross_entropy.deterministic",), base=dense,
    softmax_cross_entropy_backward=_cross_entropy_probs_consumed_backward)


def _cross_entropy_stride_gather_forward(logits, target):
    check_softmax_cross_entropy(logits, target)
    dense.capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    z = logits.astype(np.float64)
    lse, probs = log_sum_exp_rows(z)
    # logits[i, target[i]] from the flat array, with offsets taken from logits' own strides
    row_step, col_step = (s // logits.itemsize for s in logits.strides)
    picked = z.ravel()[np.arange(z.shape[0]) * row_step + target * col_step]
    loss = np.mean(lse - picked)
    return np.array(loss, dtype=logits.dtype), (probs, target.copy(), logits.dtype)


cross_entropy_gather_by_strides = Mutant(
    "cross_entropy_gather_by_strides", "cross-entropy picks logits[i, target[i]] from a C-order "
    "flat copy at offsets computed from logits.strides: wrong (or out of range) for "
    "non-contiguous logits", ("softmax_cross_entropy.layouts",), base=dense,
    softmax_cross_entropy_forward=_cross_entropy_stride_gather_forward)


# --- dropout --------------------------------------------------------------------------------

def _dropout_in_place_forward(x, mask, *, p):
    keep = 1 - check_dropout(x, mask, p)
    dense.capabilities.require("dropout", x=x, mask=mask, p=p)
    x *= mask                           # dropout(inplace=True): the caller's x is overwritten
    x /= keep
    return x, (mask.copy(), keep, x.dtype)


dropout_in_place = Mutant(
    "dropout_in_place", "dropout masks and scales the caller's x in place and returns it",
    ("dropout.no_mutation", "dropout.no_aliasing"), base=dense,
    dropout_forward=_dropout_in_place_forward)


_last_dropout_mask = None


def _dropout_module_mask_forward(x, mask, *, p):
    global _last_dropout_mask
    out, (saved, keep, dtype) = dense.dropout_forward(x, mask, p=p)
    _last_dropout_mask = saved          # self.mask = mask, as a layer object would keep it
    return out, (keep, dtype)


def _dropout_module_mask_backward(grad_out, cache):
    keep, dtype = cache
    check_grad_out(grad_out, _last_dropout_mask.shape, dtype)
    return np.asarray(grad_out * _last_dropout_mask / keep)


dropout_mask_in_module_state = Mutant(
    "dropout_mask_in_module_state", "dropout keeps the latest forward's mask in module state, "
    "not in the cache: a later forward changes an earlier backward", ("dropout.deterministic",),
    base=dense, dropout_forward=_dropout_module_mask_forward,
    dropout_backward=_dropout_module_mask_backward)


def _dropout_memory_order_forward(x, mask, *, p):
    keep = 1 - check_dropout(x, mask, p)
    dense.capabilities.require("dropout", x=x, mask=mask, p=p)
    kept = x.ravel(order="K") * mask.ravel(order="K") / keep   # both in memory order
    return kept.reshape(x.shape), (mask.copy(), keep, x.dtype)


dropout_in_memory_order = Mutant(
    "dropout_in_memory_order", "dropout works on x.ravel(order='K') and mask.ravel(order='K') "
    "and reshapes in C order: channels-last inputs come back permuted", ("dropout.layouts",),
    base=dense, dropout_forward=_dropout_memory_order_forward)


# --- pool2d ---------------------------------------------------------------------------------

def _pool_memory_order_forward(x, *, mode, kernel_size, stride, padding):
    # Flattens in memory order and reshapes: right for C order, scrambled for channels-last.
    return naive.pool2d_forward(x.ravel(order="K").reshape(x.shape), mode=mode,
                                kernel_size=kernel_size, stride=stride, padding=padding)


pool_in_memory_order = Mutant(
    "pool_in_memory_order", "pooling reads x through x.ravel(order='K').reshape(x.shape), as if "
    "x were C-contiguous: channels-last planes are scrambled", ("pool2d.layouts",),
    pool2d_forward=_pool_memory_order_forward)


_winner_workspace = {}


def _shared_winners_forward(x, *, mode, kernel_size, stride, padding):
    out, cache = naive.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    *head, winners = cache
    if winners.shape not in _winner_workspace:
        _winner_workspace[winners.shape] = np.empty_like(winners)
    shared = _winner_workspace[winners.shape]
    shared[...] = winners               # one winner buffer per shape, reused by every call
    return out, (*head, shared)


max_pool_winners_in_shared_workspace = Mutant(
    "max_pool_winners_in_shared_workspace", "max/min pooling keeps its winner indices in a "
    "workspace reused by every forward of the same shape: a later forward changes an earlier "
    "backward", ("pool2d.deterministic",), pool2d_forward=_shared_winners_forward)
