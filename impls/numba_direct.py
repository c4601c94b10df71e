"""Direct convolution and pooling loops compiled with Numba; no im2col, no FFT.

Route: every kernel is the definition written as loops over a zero- (or +-inf-) padded
copy of the input, parallel over independent outputs with ``prange``. Each conv op has
two kernels, chosen by how many filters (or channels) share a group:
    few (< 8, e.g. depthwise)   "rows" kernels: one (image, filter) or (image, channel)
                                plane per task, the innermost loop runs along an output row.
    many                        "filter-vector" kernels on channels-last copies: the
                                innermost loop runs over the filters (forward, grad weight)
                                or channels (grad input) of a group, and four output
                                columns (or filters) share each vector load.
The weight gradient of the filter-vector kernel sums fixed batch chunks separately and
adds the chunks in order, so results do not depend on thread scheduling. Pooling runs one
(image, channel) plane per task; max / min keep the first extreme in row-major window
order (strict comparison) and store the winner's offset for the backward.

All arithmetic stays in the input dtype; fused multiply-add is allowed, reassociation is
not. Inputs are copied to C-contiguous, writeable arrays first, so non-contiguous or
read-only arrays reuse the same compiled code and are never modified.

Speed is limited by the accumulators living in memory rather than registers (each
multiply-add also loads and stores its accumulator), by short inner loops (few filters,
narrow outputs) and by strided input reads when stride > 1.

linear is direct loops too: one (sample, output) dot product per task forward; the
gradients loop over outputs (grad input) or samples (grad weight, grad bias) in a fixed
order. softmax runs one row per task on a (rows, K) copy with the softmax axis last, and
cross-entropy one sample per task, the batch mean summed in order afterwards; both compute
in float64 and round once to the input dtype (``x - max`` is rounded before exp, which would
turn it into a relative error of |x - max| * u in float32). relu, sigmoid, tanh, flatten and
dropout are single element-wise formulas (or a copy) that a compiled loop would not make
different: they are re-exported from conformance.impls.dense.

batchnorm2d runs one channel per task: a pass for the mean, a second for the sum of squared
deviations, then one writing the output, all accumulated in float64 in a fixed order and
rounded once to the input dtype. The backward recomputes the normalised values from its copy
of x and takes the input gradient as
    grad_x = gamma / sigma * (g - sum(g) / m - xhat * sum(g * xhat) / m)   (training)
    grad_x = gamma / sigma * g                                            (eval)
"""
from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

from conformance.capabilities import Capabilities
from conformance.impls.dense import *  # noqa: F403 - the dense ops (see conformance.impls.dense)
from conformance.impls.validation import (check_batchnorm2d, check_batchnorm2d_running_stats,
                                          check_grad_loss, check_grad_out, check_linear,
                                          check_softmax, check_softmax_cross_entropy,
                                          conv2d_output_size, pool2d_output_size)

name = "numba"
capabilities = Capabilities.everything()

_POOL_PAD_VALUE = {"max": -np.inf, "min": np.inf, "avg": 0.0}
_POOL_MODE_CODE = {"max": 0, "min": 1, "avg": 2}


# Fused multiply-add is allowed (one rounding instead of two); reassociation is not, so the
# summation order is the one written and results are identical from call to call.
_FMA = {"contract"}
# Filters (or channels) per group from which the filter-vector kernels are used.
_VECTOR_MIN = 8
# Batch chunks whose partial weight gradients are summed in a fixed order.
_CHUNKS = 8
# Problems with fewer array elements than this run the serial compilation of a kernel: starting
# the worker threads costs more than the work (1-16 ms a call on two busy cores).
_PARALLEL_MIN = 1 << 15


def _kernel(fastmath=False):
    """Compile a loop nest with ``prange`` twice, threaded and serial, and dispatch by size.

    Both compilations run the same loops; each output element is computed by one iteration, so
    the results are identical whichever runs.
    """
    def compile_both(function):
        parallel = njit(parallel=True, cache=True, fastmath=fastmath)(function)
        serial_function = types.FunctionType(function.__code__, function.__globals__,
                                             function.__name__ + "_serial")
        serial_function.__qualname__ = function.__qualname__ + "_serial"
        serial = njit(cache=True, fastmath=fastmath)(serial_function)

        def dispatch(*args):
            # One line per compilation, so line coverage shows which of them ran.
            size = sum(a.size for a in args if isinstance(a, np.ndarray))
            if size >= _PARALLEL_MIN:
                return parallel(*args)
            return serial(*args)
        dispatch.__name__, dispatch.__doc__ = function.__name__, function.__doc__
        return dispatch
    return compile_both


@_kernel(fastmath=_FMA)
def _forward_rows(xpad, w, sh, sw, dh, dw, groups, ho, wo):
    """xpad (N, C, Hp, Wp), w (F, Cg, KH, KW) -> out (N, F, Ho, Wo) without bias.

    One (image, filter) plane per task, vectorized along output rows.
    """
    n = xpad.shape[0]
    f, cg, kh, kw = w.shape
    fg = f // groups
    out = np.zeros((n, f, ho, wo), dtype=xpad.dtype)
    for task in prange(n * f):
        b = task // f
        fi = task % f
        c0 = (fi // fg) * cg
        for ci in range(cg):
            plane = xpad[b, c0 + ci]
            for a in range(kh):
                for k in range(kw):
                    wv = w[fi, ci, a, k]
                    for i in range(ho):
                        acc = out[b, fi, i]
                        if sw == 1:
                            row = plane[i * sh + a * dh, k * dw:k * dw + wo]
                            for j in range(wo):
                                acc[j] += wv * row[j]
                        else:
                            row = plane[i * sh + a * dh]
                            for j in range(wo):
                                acc[j] += wv * row[j * sw + k * dw]
    return out


@_kernel(fastmath=_FMA)
def _forward_filters(xpad, w_t, groups, sh, sw, dh, dw, ho, wo):
    """xpad (N, C, Hp, Wp), w_t (C, KH, KW, F // groups) -> out (N, Ho, Wo, F) without bias.

    w_t[c] holds channel c's weights for the filters of its group. One (image, output row)
    per task, vectorized over filters, four output columns at a time so that each weight
    vector loaded serves four accumulators.
    """
    n, c, _, _ = xpad.shape
    _, kh, kw, fg = w_t.shape
    cg = c // groups
    out = np.zeros((n, ho, wo, fg * groups), dtype=xpad.dtype)
    for task in prange(n * ho):
        b = task // ho
        i = task % ho
        for g in range(groups):
            f0 = g * fg
            j = 0
            while j + 4 <= wo:
                a0 = out[b, i, j, f0:f0 + fg]
                a1 = out[b, i, j + 1, f0:f0 + fg]
                a2 = out[b, i, j + 2, f0:f0 + fg]
                a3 = out[b, i, j + 3, f0:f0 + fg]
                for ch in range(g * cg, (g + 1) * cg):
                    for a in range(kh):
                        row = xpad[b, ch, i * sh + a * dh]
                        for k in range(kw):
                            col = j * sw + k * dw
                            x0, x1 = row[col], row[col + sw]
                            x2, x3 = row[col + 2 * sw], row[col + 3 * sw]
                            wr = w_t[ch, a, k]
                            for fo in range(fg):
                                a0[fo] += x0 * wr[fo]
                                a1[fo] += x1 * wr[fo]
                                a2[fo] += x2 * wr[fo]
                                a3[fo] += x3 * wr[fo]
                j += 4
            for jj in range(j, wo):
                acc = out[b, i, jj, f0:f0 + fg]
                for ch in range(g * cg, (g + 1) * cg):
                    for a in range(kh):
                        for k in range(kw):
                            xv = xpad[b, ch, i * sh + a * dh, jj * sw + k * dw]
                            wr = w_t[ch, a, k]
                            for fo in range(fg):
                                acc[fo] += xv * wr[fo]
    return out


@_kernel(fastmath=_FMA)
def _grad_weight_rows(xpad, grad_out, cg, kh, kw, sh, sw, dh, dw, groups):
    """xpad (N, C, Hp, Wp), grad_out (N, F, Ho, Wo) -> grad_weight (F, Cg, KH, KW).

    One filter per task; each weight is accumulated in a vector along output columns (so
    the loop vectorizes without reassociation), summed at the end.
    """
    n, f, ho, wo = grad_out.shape
    fg = f // groups
    grad_w = np.zeros((f, cg, kh, kw), dtype=xpad.dtype)
    for fi in prange(f):
        c0 = (fi // fg) * cg
        acc = np.zeros(wo, dtype=xpad.dtype)
        for ci in range(cg):
            for a in range(kh):
                for k in range(kw):
                    acc[:] = 0
                    for b in range(n):
                        for i in range(ho):
                            g_row = grad_out[b, fi, i]
                            if sw == 1:
                                row = xpad[b, c0 + ci, i * sh + a * dh, k * dw:k * dw + wo]
                                for j in range(wo):
                                    acc[j] += g_row[j] * row[j]
                            else:
                                row = xpad[b, c0 + ci, i * sh + a * dh]
                                for j in range(wo):
                                    acc[j] += g_row[j] * row[j * sw + k * dw]
                    grad_w[fi, ci, a, k] = acc.sum()
    return grad_w


@_kernel(fastmath=_FMA)
def _grad_weight_filters(xpad, g_t, groups, kh, kw, sh, sw, dh, dw, chunks):
    """xpad (N, C, Hp, Wp), g_t (N, Ho, Wo, F) -> partial sums (chunks, C, KH, KW, F // groups).

    Chunk q sums images q, q + chunks, ...; the caller adds the chunks in order. Vectorized
    over filters, four output columns per update of the accumulator.
    """
    n, c, _, _ = xpad.shape
    _, ho, wo, f = g_t.shape
    fg = f // groups
    cg = c // groups
    partial = np.zeros((chunks, c, kh, kw, fg), dtype=xpad.dtype)
    for q in prange(chunks):
        for b in range(q, n, chunks):
            for i in range(ho):
                j = 0
                while j + 4 <= wo:
                    for ch in range(c):
                        f0 = (ch // cg) * fg
                        g0 = g_t[b, i, j, f0:f0 + fg]
                        g1 = g_t[b, i, j + 1, f0:f0 + fg]
                        g2 = g_t[b, i, j + 2, f0:f0 + fg]
                        g3 = g_t[b, i, j + 3, f0:f0 + fg]
                        for a in range(kh):
                            row = xpad[b, ch, i * sh + a * dh]
                            for k in range(kw):
                                col = j * sw + k * dw
                                x0, x1 = row[col], row[col + sw]
                                x2, x3 = row[col + 2 * sw], row[col + 3 * sw]
                                acc = partial[q, ch, a, k]
                                for fo in range(fg):
                                    acc[fo] += x0 * g0[fo] + x1 * g1[fo] + x2 * g2[fo] + x3 * g3[fo]
                    j += 4
                for jj in range(j, wo):
                    for ch in range(c):
                        f0 = (ch // cg) * fg
                        gv = g_t[b, i, jj, f0:f0 + fg]
                        for a in range(kh):
                            for k in range(kw):
                                xv = xpad[b, ch, i * sh + a * dh, jj * sw + k * dw]
                                acc = partial[q, ch, a, k]
                                for fo in range(fg):
                                    acc[fo] += xv * gv[fo]
    return partial


@_kernel(fastmath=_FMA)
def _grad_input_rows(grad_out, w, hp, wp, sh, sw, dh, dw, groups):
    """grad_out (N, F, Ho, Wo), w (F, Cg, KH, KW) -> grad of the padded input (N, C, Hp, Wp).

    One (image, channel) plane per task, scattering along output rows; tasks never write to
    the same memory.
    """
    n, f, ho, wo = grad_out.shape
    _, cg, kh, kw = w.shape
    fg = f // groups
    c = cg * groups
    grad = np.zeros((n, c, hp, wp), dtype=grad_out.dtype)
    for task in prange(n * c):
        b = task // c
        ch = task % c
        ci = ch % cg
        f0 = (ch // cg) * fg
        for fi in range(f0, f0 + fg):
            for a in range(kh):
                for k in range(kw):
                    wv = w[fi, ci, a, k]
                    for i in range(ho):
                        g_row = grad_out[b, fi, i]
                        if sw == 1:
                            row = grad[b, ch, i * sh + a * dh, k * dw:k * dw + wo]
                            for j in range(wo):
                                row[j] += wv * g_row[j]
                        else:
                            row = grad[b, ch, i * sh + a * dh]
                            for j in range(wo):
                                row[j * sw + k * dw] += wv * g_row[j]
    return grad


@_kernel(fastmath=_FMA)
def _grad_input_channels(g_t, w_t, groups, hp, wp, sh, sw, dh, dw):
    """g_t (N, Ho, Wo, F), w_t (F, KH, KW, Cg) -> grad of the padded input (N, Hp, Wp, C).

    One image per task, vectorized over the channels of a group, four filters per update.
    """
    n, ho, wo, f = g_t.shape
    _, kh, kw, cg = w_t.shape
    fg = f // groups
    grad = np.zeros((n, hp, wp, cg * groups), dtype=g_t.dtype)
    for b in prange(n):
        for i in range(ho):
            for j in range(wo):
                for g in range(groups):
                    c0 = g * cg
                    fi = g * fg
                    while fi + 4 <= (g + 1) * fg:
                        g0, g1 = g_t[b, i, j, fi], g_t[b, i, j, fi + 1]
                        g2, g3 = g_t[b, i, j, fi + 2], g_t[b, i, j, fi + 3]
                        for a in range(kh):
                            for k in range(kw):
                                acc = grad[b, i * sh + a * dh, j * sw + k * dw, c0:c0 + cg]
                                w0, w1 = w_t[fi, a, k], w_t[fi + 1, a, k]
                                w2, w3 = w_t[fi + 2, a, k], w_t[fi + 3, a, k]
                                for ci in range(cg):
                                    acc[ci] += g0 * w0[ci] + g1 * w1[ci] + g2 * w2[ci] + g3 * w3[ci]
                        fi += 4
                    for ff in range(fi, (g + 1) * fg):
                        gv = g_t[b, i, j, ff]
                        for a in range(kh):
                            for k in range(kw):
                                acc = grad[b, i * sh + a * dh, j * sw + k * dw, c0:c0 + cg]
                                wr = w_t[ff, a, k]
                                for ci in range(cg):
                                    acc[ci] += gv * wr[ci]
    return grad


@_kernel()
def _pool_forward(xpad, mode, kh, kw, sh, sw, ho, wo):
    """xpad (N, C, Hp, Wp) -> (out (N, C, Ho, Wo), winner offset a * KW + b per output).

    mode: 0 max, 1 min, 2 avg (winners left at 0).
    """
    n, c, _, _ = xpad.shape
    out = np.empty((n, c, ho, wo), dtype=xpad.dtype)
    winners = np.zeros((n, c, ho, wo), dtype=np.int32)
    count = kh * kw
    for task in prange(n * c):
        b = task // c
        ch = task % c
        plane = xpad[b, ch]
        for i in range(ho):
            for j in range(wo):
                best = plane[i * sh, j * sw]
                arg = 0
                for a in range(kh):
                    for k in range(kw):
                        v = plane[i * sh + a, j * sw + k]
                        if mode == 2:
                            if a + k > 0:
                                best += v
                        elif (v > best) if mode == 0 else (v < best):
                            best = v
                            arg = a * kw + k
                if mode == 2:
                    out[b, ch, i, j] = best / count
                else:
                    out[b, ch, i, j] = best
                    winners[b, ch, i, j] = arg
    return out, winners


@_kernel()
def _pool_backward(grad_out, winners, mode, kh, kw, sh, sw, hp, wp):
    """grad_out (N, C, Ho, Wo) -> grad of the padded input (N, C, Hp, Wp)."""
    n, c, ho, wo = grad_out.shape
    grad = np.zeros((n, c, hp, wp), dtype=grad_out.dtype)
    count = kh * kw
    for task in prange(n * c):
        b = task // c
        ch = task % c
        plane = grad[b, ch]
        for i in range(ho):
            for j in range(wo):
                g = grad_out[b, ch, i, j]
                if mode == 2:
                    share = g / count
                    for a in range(kh):
                        for k in range(kw):
                            plane[i * sh + a, j * sw + k] += share
                else:
                    arg = winners[b, ch, i, j]
                    plane[i * sh + arg // kw, j * sw + arg % kw] += g
    return grad


@_kernel(fastmath=_FMA)
def _linear_forward(x, w):
    """x (N, in), w (out, in) -> out (N, out) = x @ w.T, one dot product per task."""
    n, n_in = x.shape
    n_out = w.shape[0]
    out = np.zeros((n, n_out), dtype=x.dtype)
    for task in prange(n * n_out):
        b = task // n_out
        o = task % n_out
        for i in range(n_in):
            out[b, o] += x[b, i] * w[o, i]
    return out


@_kernel(fastmath=_FMA)
def _linear_backward(x, w, g):
    """x (N, in), w (out, in), g (N, out) -> (grad_x (N, in), grad_w (out, in), grad_b (out,))."""
    n, n_in = x.shape
    n_out = w.shape[0]
    grad_x = np.zeros((n, n_in), dtype=x.dtype)
    grad_w = np.zeros((n_out, n_in), dtype=x.dtype)
    grad_b = np.zeros(n_out, dtype=x.dtype)
    for b in prange(n):
        for o in range(n_out):
            gv = g[b, o]
            for i in range(n_in):
                grad_x[b, i] += gv * w[o, i]
    for o in prange(n_out):
        for b in range(n):
            gv = g[b, o]
            grad_b[o] += gv
            for i in range(n_in):
                grad_w[o, i] += gv * x[b, i]
    return grad_x, grad_w, grad_b


@_kernel()
def _softmax_rows(x):
    """x (rows, K) -> float64 softmax of each row: max, exps, sum, divide."""
    rows, k = x.shape
    y = np.empty((rows, k), dtype=np.float64)
    for r in prange(rows):
        m = np.float64(x[r, 0])
        for j in range(1, k):
            m = max(m, np.float64(x[r, j]))
        total = 0.0
        for j in range(k):
            y[r, j] = np.exp(np.float64(x[r, j]) - m)
            total += y[r, j]
        for j in range(k):
            y[r, j] /= total
    return y


@_kernel()
def _softmax_rows_backward(y, g):
    """y (rows, K) float64 softmax, g (rows, K) -> float64 y * (g - sum(g * y)) per row."""
    rows, k = y.shape
    grad = np.empty((rows, k), dtype=np.float64)
    for r in prange(rows):
        dot = 0.0
        for j in range(k):
            dot += np.float64(g[r, j]) * y[r, j]
        for j in range(k):
            grad[r, j] = y[r, j] * (np.float64(g[r, j]) - dot)
    return grad


@_kernel()
def _cross_entropy(z, target):
    """z (N, K), target (N,) -> (float64 mean of logsumexp - z[target], float64 softmax)."""
    n, k = z.shape
    probs = np.empty((n, k), dtype=np.float64)
    losses = np.empty(n, dtype=np.float64)
    for i in prange(n):
        m = np.float64(z[i, 0])
        for j in range(1, k):
            m = max(m, np.float64(z[i, j]))
        total = 0.0
        for j in range(k):
            probs[i, j] = np.exp(np.float64(z[i, j]) - m)
            total += probs[i, j]
        for j in range(k):
            probs[i, j] /= total
        losses[i] = m + np.log(total) - np.float64(z[i, target[i]])
    loss = 0.0
    for i in range(n):
        loss += losses[i]
    return loss / n, probs


@_kernel()
def _cross_entropy_backward(probs, target, g):
    """probs (N, K) float64, target (N,), g float -> float64 g * (probs - onehot) / N."""
    n, k = probs.shape
    grad = np.empty((n, k), dtype=np.float64)
    for i in prange(n):
        for j in range(k):
            hit = 1.0 if j == target[i] else 0.0
            grad[i, j] = g * (probs[i, j] - hit) / n
    return grad


@_kernel()
def _batchnorm_statistics(x):
    """x (N, C, H, W) -> float64 (mean (C,), sum of squared deviations from it (C,))."""
    n, c, h, w = x.shape
    mean = np.empty(c, dtype=np.float64)
    squares = np.empty(c, dtype=np.float64)
    for ch in prange(c):
        total = 0.0
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    total += x[b, ch, i, j]
        mu = total / (n * h * w)
        total = 0.0
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    d = x[b, ch, i, j] - mu
                    total += d * d
        mean[ch] = mu
        squares[ch] = total
    return mean, squares


@_kernel()
def _batchnorm_normalise(x, mean, sigma, gamma, beta):
    """x (N, C, H, W), float64 (C,) vectors -> gamma * (x - mean) / sigma + beta in x's dtype."""
    n, c, h, w = x.shape
    out = np.empty((n, c, h, w), dtype=x.dtype)
    for ch in prange(c):
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    xhat = (x[b, ch, i, j] - mean[ch]) / sigma[ch]
                    out[b, ch, i, j] = gamma[ch] * xhat + beta[ch]
    return out


@_kernel()
def _batchnorm_backward(x, g, mean, sigma, gamma, training):
    """x, g (N, C, H, W), float64 (C,) vectors -> (grad_x in x's dtype, float64 grad_gamma,
    float64 grad_beta); with ``training`` through the batch statistics mean and sigma."""
    n, c, h, w = x.shape
    m = n * h * w
    grad_x = np.empty((n, c, h, w), dtype=x.dtype)
    grad_gamma = np.empty(c, dtype=np.float64)
    grad_beta = np.empty(c, dtype=np.float64)
    for ch in prange(c):
        sum_g = 0.0
        sum_g_xhat = 0.0
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    gv = np.float64(g[b, ch, i, j])
                    sum_g += gv
                    sum_g_xhat += gv * ((x[b, ch, i, j] - mean[ch]) / sigma[ch])
        grad_beta[ch] = sum_g
        grad_gamma[ch] = sum_g_xhat
        scale = gamma[ch] / sigma[ch]
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    gv = np.float64(g[b, ch, i, j])
                    if training:
                        xhat = (x[b, ch, i, j] - mean[ch]) / sigma[ch]
                        grad_x[b, ch, i, j] = scale * (gv - sum_g / m - xhat * sum_g_xhat / m)
                    else:
                        grad_x[b, ch, i, j] = scale * gv
    return grad_x, grad_gamma, grad_beta


def _pad(x, padding, value):
    """A padded, C-contiguous, writeable copy of x (N, C, H, W)."""
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _owned(a):
    """A C-contiguous, writeable copy, so every call sees the same compiled array type."""
    return np.array(a, order="C", copy=True)


def _ints(pair):
    """Plain Python ints, so NumPy integer arguments reuse the compiled kernels."""
    return int(pair[0]), int(pair[1])


def _unpad(grad_pad, padding, x_shape):
    """The unpadded part of a gradient we own, as a new C-contiguous array."""
    ph, pw = padding
    if ph == pw == 0 and grad_pad.flags.c_contiguous:
        return grad_pad
    h, w = x_shape[2:]
    return np.ascontiguousarray(grad_pad[:, :, ph:ph + h, pw:pw + w])


def conv2d_forward(x, weight, bias, *, stride, padding, dilation, groups):
    """x (N, C, H, W), weight (F, C // groups, KH, KW), bias (F,) or None -> out (N, F, Ho, Wo)."""
    ho, wo = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                         padding=padding, dilation=dilation, groups=groups)
    stride, padding, dilation, groups = _ints(stride), _ints(padding), _ints(dilation), int(groups)
    xpad = _pad(x, padding, 0)
    w = _owned(weight)
    f, cg, kh, kw = w.shape
    fg = f // groups
    if fg >= _VECTOR_MIN:
        # w_t[c, a, b, fo] = w[group(c) * fg + fo, c % cg, a, b]
        w_t = w.reshape(groups, fg, cg, kh, kw).transpose(0, 2, 3, 4, 1).reshape(-1, kh, kw, fg)
        out = _forward_filters(xpad, _owned(w_t), groups, *stride, *dilation, ho, wo)
        out = out.transpose(0, 3, 1, 2).copy()
    else:
        out = _forward_rows(xpad, w, *stride, *dilation, groups, ho, wo)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    cache = (xpad, w, bias is not None, x.shape, stride, padding, dilation, groups, out.shape)
    return out, cache


def conv2d_backward(grad_out, cache):
    """grad_out (N, F, Ho, Wo) -> (grad_x (N, C, H, W), grad_weight, grad_bias or None)."""
    xpad, w, has_bias, x_shape, stride, padding, dilation, groups, out_shape = cache
    check_grad_out(grad_out, out_shape, xpad.dtype)
    f, cg, kh, kw = w.shape
    fg = f // groups
    hp, wp = xpad.shape[2:]
    g = _owned(grad_out)
    g_t = _owned(grad_out.transpose(0, 2, 3, 1))
    if fg >= _VECTOR_MIN:
        chunks = min(x_shape[0], _CHUNKS)
        partial = _grad_weight_filters(xpad, g_t, groups, kh, kw, *stride, *dilation, chunks)
        grad_weight = partial.sum(axis=0).reshape(groups, cg, kh, kw, fg)
        grad_weight = grad_weight.transpose(0, 4, 1, 2, 3).reshape(w.shape).copy()
    else:
        grad_weight = _grad_weight_rows(xpad, g, cg, kh, kw, *stride, *dilation, groups)
    if cg >= _VECTOR_MIN:
        # w_t[fi, a, b, ci] = w[fi, ci, a, b]
        w_t = _owned(w.transpose(0, 2, 3, 1))
        grad_pad = _grad_input_channels(g_t, w_t, groups, hp, wp, *stride, *dilation)
        grad_pad = grad_pad.transpose(0, 3, 1, 2)
    else:
        grad_pad = _grad_input_rows(g, w, hp, wp, *stride, *dilation, groups)
    grad_x = _unpad(grad_pad, padding, x_shape)
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return grad_x, grad_weight, grad_bias


def pool2d_forward(x, *, mode, kernel_size, stride, padding):
    """x (N, C, H, W) -> out (N, C, Ho, Wo); mode "max" | "avg" | "min"."""
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size, stride=stride,
                         padding=padding)
    kernel_size, stride, padding = _ints(kernel_size), _ints(stride), _ints(padding)
    xpad = _pad(x, padding, _POOL_PAD_VALUE[mode])
    code = _POOL_MODE_CODE[mode]
    out, winners = _pool_forward(xpad, code, *kernel_size, *stride, ho, wo)
    cache = (x.shape, x.dtype, code, kernel_size, stride, padding, xpad.shape, winners)
    return out, cache


def pool2d_backward(grad_out, cache):
    """grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W)."""
    x_shape, dtype, code, kernel_size, stride, padding, padded_shape, winners = cache
    check_grad_out(grad_out, winners.shape, dtype)
    grad_pad = _pool_backward(_owned(grad_out), winners, code, *kernel_size, *stride,
                              *padded_shape[2:])
    return _unpad(grad_pad, padding, x_shape)


# Results below the dtype's normal range are expected (exp of very negative numbers, float64
# results rounded to float32): they become subnormal or 0 quietly, also under
# np.seterr(under="raise").
_QUIET_UNDERFLOW = np.errstate(under="ignore")


def linear_forward(x, weight, bias):
    """x (N, in), weight (out, in), bias (out,) or None -> out (N, out) = x @ weight.T + bias."""
    check_linear(x, weight, bias)
    capabilities.require("linear", x=x, weight=weight, bias=bias)
    x, w = _owned(x), _owned(weight)
    out = _linear_forward(x, w)
    if bias is not None:
        out += bias
    return out, (x, w, bias is not None)


def linear_backward(grad_out, cache):
    """grad_out (N, out) -> (grad_x (N, in), grad_weight (out, in), grad_bias (out,) or None)."""
    x, w, has_bias = cache
    check_grad_out(grad_out, (x.shape[0], w.shape[0]), x.dtype)
    grad_x, grad_weight, grad_bias = _linear_backward(x, w, _owned(grad_out))
    return grad_x, grad_weight, grad_bias if has_bias else None


def _rows(a, axis):
    """A C-contiguous (rows, K) copy of a with ``axis`` moved last, and the moved shape."""
    moved = np.moveaxis(a, axis, -1)
    return _owned(moved).reshape(-1, moved.shape[-1]), moved.shape


def _unrows(rows, moved_shape, axis, dtype):
    """Inverse of _rows, rounded to dtype: a new C-contiguous array of the original shape."""
    return np.array(np.moveaxis(rows.reshape(moved_shape), -1, axis), dtype=dtype, order="C")


@_QUIET_UNDERFLOW
def softmax_forward(x, *, axis):
    """x (any shape, ndim >= 1) -> out of x's shape, each slice along ``axis`` summing to 1."""
    ax = check_softmax(x, axis)
    capabilities.require("softmax", x=x, axis=axis)
    rows, moved_shape = _rows(x, ax)
    y = _softmax_rows(rows)
    return _unrows(y, moved_shape, ax, x.dtype), (y, x.shape, moved_shape, ax, x.dtype)


@_QUIET_UNDERFLOW
def softmax_backward(grad_out, cache):
    """grad_out of x's shape -> grad_x = y * (grad_out - sum(grad_out * y, axis))."""
    y, shape, moved_shape, ax, dtype = cache
    check_grad_out(grad_out, shape, dtype)
    g_rows, _ = _rows(grad_out, ax)
    return _unrows(_softmax_rows_backward(y, g_rows), moved_shape, ax, dtype)


@_QUIET_UNDERFLOW
def softmax_cross_entropy_forward(logits, target):
    """logits (N, K), target (N,) ints in [0, K) -> 0-d loss, mean of logsumexp - logit[target]."""
    check_softmax_cross_entropy(logits, target)
    capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    target = np.array(target, dtype=np.int64)
    loss, probs = _cross_entropy(_owned(logits), target)
    return np.array(loss, dtype=logits.dtype), (probs, target, logits.dtype)


@_QUIET_UNDERFLOW
def softmax_cross_entropy_backward(grad_loss, cache):
    """grad_loss (0-d array or float) -> grad_logits (N, K) = grad_loss * (p - onehot) / N."""
    probs, target, dtype = cache
    g = check_grad_loss(grad_loss, dtype)
    return _cross_entropy_backward(probs, target, g).astype(dtype)


def _owned64(v):
    """A C-contiguous, writeable float64 copy (C,) of a per-channel vector."""
    return np.array(v, dtype=np.float64, order="C")


@_QUIET_UNDERFLOW
def batchnorm2d_forward(x, gamma, beta, *, training, running_mean, running_var, eps):
    """x (N, C, H, W), gamma, beta (C,) -> out = gamma * (x - mu) / sqrt(var + eps) + beta.

    mu, var: one compiled task per channel computes its mean and biased variance when
    training; otherwise running_mean and running_var.
    """
    check_batchnorm2d(x, gamma, beta, training, running_mean, running_var, eps)
    capabilities.require("batchnorm2d", x=x, gamma=gamma, beta=beta, training=training,
                         running_mean=running_mean, running_var=running_var)
    x = _owned(x)
    if training:
        mean, squares = _batchnorm_statistics(x)
        var = squares / (x.size // x.shape[1])
    else:
        mean, var = _owned64(running_mean), _owned64(running_var)
    sigma = np.sqrt(var + eps)
    gamma = _owned64(gamma)
    out = _batchnorm_normalise(x, mean, sigma, gamma, _owned64(beta))
    return out, (x, mean, sigma, gamma, bool(training))


@_QUIET_UNDERFLOW
def batchnorm2d_backward(grad_out, cache):
    """grad_out (N, C, H, W) -> (grad_x (N, C, H, W), grad_gamma (C,), grad_beta (C,))."""
    x, mean, sigma, gamma, training = cache
    check_grad_out(grad_out, x.shape, x.dtype)
    grad_x, grad_gamma, grad_beta = _batchnorm_backward(x, _owned(grad_out), mean, sigma,
                                                        gamma, training)
    return grad_x, grad_gamma.astype(x.dtype), grad_beta.astype(x.dtype)


def batchnorm2d_running_stats(x, running_mean, running_var, *, momentum):
    """x (N, C, H, W), running_mean, running_var (C,) -> (new_mean, new_var) in x's dtype:
    (1 - momentum) * old + momentum * batch mean / unbiased batch variance (divided by m - 1)."""
    check_batchnorm2d_running_stats(x, running_mean, running_var, momentum)
    capabilities.require("batchnorm2d", x=x, running_mean=running_mean,
                         running_var=running_var, momentum=momentum)
    mean, squares = _batchnorm_statistics(_owned(x))
    unbiased = squares / (x.size // x.shape[1] - 1)
    new_mean = (1 - momentum) * _owned64(running_mean) + momentum * mean
    new_var = (1 - momentum) * _owned64(running_var) + momentum * unbiased
    return new_mean.astype(x.dtype), new_var.astype(x.dtype)


def warm_up():
    """Compile (or load from the cache) both compilations of every kernel of a claimed op, for
    float32 and float64."""
    global _PARALLEL_MIN
    default = _PARALLEL_MIN
    try:
        for _PARALLEL_MIN in (0, default):
            _warm_up_once()
    finally:
        _PARALLEL_MIN = default


def _warm_up_once():
    for dtype in (np.float32, np.float64):
        x = np.ones((1, _VECTOR_MIN, 4, 4), dtype=dtype)
        # Row kernels (one filter and channel per group), then filter-vector kernels.
        for groups in (_VECTOR_MIN, 1):
            weight = np.ones((_VECTOR_MIN, _VECTOR_MIN // groups, 2, 2), dtype=dtype)
            out, cache = conv2d_forward(x, weight, np.ones(_VECTOR_MIN, dtype), stride=(1, 1),
                                        padding=(1, 1), dilation=(1, 1), groups=groups)
            conv2d_backward(np.ones_like(out), cache)
        for mode in _POOL_MODE_CODE:
            out, cache = pool2d_forward(x, mode=mode, kernel_size=(2, 2), stride=(2, 2),
                                        padding=(1, 1))
            pool2d_backward(np.ones_like(out), cache)
        x2 = np.ones((2, 3), dtype=dtype)
        if "linear" in capabilities.ops:
            for bias in (None, np.ones(2, dtype)):
                out, cache = linear_forward(x2, np.ones((2, 3), dtype), bias)
                linear_backward(np.ones_like(out), cache)
        if "softmax" in capabilities.ops:
            out, cache = softmax_forward(x2, axis=-1)
            softmax_backward(np.ones_like(out), cache)
        if "softmax_cross_entropy" in capabilities.ops:
            loss, cache = softmax_cross_entropy_forward(x2, np.zeros(2, dtype=np.int64))
            softmax_cross_entropy_backward(np.ones_like(loss), cache)
        if "batchnorm2d" in capabilities.ops:
            x4 = np.ones((2, 2, 2, 2), dtype=dtype)
            x4[0] = 0
            vector = np.ones(2, dtype)
            for training in (True, False):
                out, cache = batchnorm2d_forward(x4, vector, vector, training=training,
                                                 running_mean=vector, running_var=vector,
                                                 eps=1e-5)
                batchnorm2d_backward(np.ones_like(out), cache)
            batchnorm2d_running_stats(x4, vector, vector, momentum=0.1)
