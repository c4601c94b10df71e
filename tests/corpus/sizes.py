"""Size-dependent bugs: correct below a threshold, wrong above it.

Real implementations change code path with size: they chunk the batch to bound memory, switch to
a GEMM or a vector kernel once reductions or filter counts grow, tile output rows, split work over
threads, or take a faster, less precise route for long reductions. Each mutant here is a
vectorised built-in (impls/im2col_strided.py for conv2d and pool2d, impls/dense.py for the other
ops) below its threshold, a module-level constant, and one realistic bug in the path it takes
above.

THRESHOLD_CASES gives, per mutant, a check, a case past its threshold that the check fails
(LARGE_CASES) and one just below the threshold that it passes (JUST_BELOW_CASES):
``python -m conformance replay tests.corpus.sizes:NAME OP CHECK "$(case JSON)"``.
"""
import math

import numpy as np

from conformance.ops import OPS
from conformance.ops.conv2d import Conv2dCase
from conformance.ops.pool2d import Pool2dCase
from conformance.impls import dense
from conformance.impls import im2col_strided as strided
from conformance.impls.validation import (check_grad_out, check_linear, check_relu, check_softmax,
                                          check_softmax_cross_entropy, conv2d_output_size,
                                          pool2d_output_size)
from tests.corpus import Mutant

BATCH_CHUNK = 8                  # conv2d: images per chunk once the batch exceeds one chunk
GEMM_MIN_PRODUCTS = 64           # conv2d: reductions (C/groups * KH * KW) taking the GEMM path
VECTOR_MIN_FILTERS = 16          # conv2d: filters per group taking the vector path
VECTOR_LANES = 8
HALF_MIN_PRODUCTS = 2048         # conv2d, float32: reductions taking the float16 accumulator
SPLIT_MIN_ELEMENTS = 2**15       # conv2d: x elements from which grad_weight is split in halves
COL2IM_MIN_ELEMENTS = 2**16      # conv2d: x elements from which col2im uses a flat index
POOL_TILE_ROWS = 16              # pool2d avg backward: output rows per tile, above one tile
PLANE_TILE_MIN = 4096            # pool2d max/min: input plane size (H * W) taking row tiles
LINEAR_TILE_MIN_FEATURES = 1024  # linear: in_features taking the tiled dot product
LINEAR_TILE = 256
THREADED_MIN_ELEMENTS = 2**17    # linear: x elements above which grad_weight uses workers
WORKERS = 4
BLOCKED_MIN_CLASSES = 64         # softmax, cross-entropy: classes taking the blocked path
CLASS_BLOCK = 16
RELU_BLOCK = 2**16               # relu: elements per block above one block


def _conv_layout(stride, padding, dilation):
    return dict(stride=tuple(stride), padding=tuple(padding), dilation=tuple(dilation))


def _columns(x, kernel, groups, out_hw, stride, padding, dilation, order=(1, 2, 5, 6, 0, 3, 4)):
    """im2col as impls/im2col_strided.py does it: (G, Cg * KH * KW, N * Ho * Wo), rows in the order
    given by ``order``, a permutation of the window axes (N, G, Cg, Ho, Wo, KH, KW)."""
    n, c = x.shape[:2]
    (kh, kw), (ho, wo) = kernel, out_hw
    win = strided._windows(strided._pad(x, padding, 0), kernel, stride, dilation, out_hw)
    win = win.reshape(n, groups, c // groups, ho, wo, kh, kw).transpose(*order)
    return np.ascontiguousarray(win).reshape(groups, c // groups * kh * kw, n * ho * wo)


def _conv_result(products, x, weight, bias, cols, groups, out_hw, layout):
    """out (N, F, Ho, Wo) from products (F, N * Ho * Wo), and impls/im2col_strided.py's cache."""
    n, f = x.shape[0], weight.shape[0]
    out = np.ascontiguousarray(products.reshape(f, n, *out_hw).transpose(1, 0, 2, 3))
    if bias is not None:
        out += bias.reshape(1, f, 1, 1)
    cache = (cols, weight, bias is not None, x.shape, layout["stride"], layout["padding"],
             layout["dilation"], groups, out.shape)
    return out, cache


def _validated_conv(x, weight, bias, stride, padding, dilation, groups):
    out_hw = conv2d_output_size(x, weight, bias, stride, padding, dilation, groups)
    strided.capabilities.require("conv2d", x=x, weight=weight, bias=bias, stride=stride,
                                 padding=padding, dilation=dilation, groups=groups)
    return out_hw


# --- conv2d: the batch in chunks ------------------------------------------------------------

def _batch_chunks(n):
    """Slices of at most BATCH_CHUNK images, bounding the column buffer's memory."""
    if n <= BATCH_CHUNK:
        return [slice(0, n)]
    # Bug: the last n % BATCH_CHUNK images are never visited.
    return [slice(start, start + BATCH_CHUNK) for start in range(0, n - BATCH_CHUNK + 1,
                                                                 BATCH_CHUNK)]


def _chunked_forward(x, weight, bias, *, stride, padding, dilation, groups):
    ho, wo = _validated_conv(x, weight, bias, stride, padding, dilation, groups)
    out = np.zeros((x.shape[0], weight.shape[0], ho, wo), x.dtype)
    caches = []
    for part in _batch_chunks(x.shape[0]):
        out[part], cache = strided.conv2d_forward(x[part], weight, bias, stride=stride,
                                                  padding=padding, dilation=dilation,
                                                  groups=groups)
        caches.append((part, cache))
    return out, (caches, x.shape, x.dtype, weight.shape, bias is not None, out.shape)


def _chunked_backward(grad_out, cache):
    caches, x_shape, dtype, weight_shape, has_bias, out_shape = cache
    check_grad_out(grad_out, out_shape, dtype)
    grad_x = np.zeros(x_shape, dtype)
    grad_weight = np.zeros(weight_shape, dtype)
    grad_bias = np.zeros(weight_shape[0], dtype) if has_bias else None
    for part, chunk_cache in caches:
        gx, gw, gb = strided.conv2d_backward(grad_out[part], chunk_cache)
        grad_x[part] = gx
        grad_weight += gw
        if has_bias:
            grad_bias += gb
    return grad_x, grad_weight, grad_bias


conv_batch_remainder_dropped = Mutant(
    "conv_batch_remainder_dropped", f"conv2d processes batches above {BATCH_CHUNK} images in "
    f"chunks of {BATCH_CHUNK} and never visits the last N % {BATCH_CHUNK} (forward and backward)",
    ("conv2d.forward", "conv2d.grad_x", "conv2d.grad_weight"), base=strided,
    conv2d_forward=_chunked_forward, conv2d_backward=_chunked_backward)


# --- conv2d: a GEMM path for long reductions ------------------------------------------------

def _gemm_forward(x, weight, bias, *, stride, padding, dilation, groups):
    out_hw = _validated_conv(x, weight, bias, stride, padding, dilation, groups)
    f, cg, kh, kw = weight.shape
    if cg * kh * kw < GEMM_MIN_PRODUCTS:
        return strided.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                      dilation=dilation, groups=groups)
    layout = _conv_layout(stride, padding, dilation)
    # Bug: windows flattened channels-last, (KH, KW, Cg), while the weight is (Cg, KH, KW).
    cols = _columns(x, (kh, kw), groups, out_hw, order=(1, 5, 6, 2, 0, 3, 4), **layout)
    products = np.matmul(weight.reshape(groups, f // groups, -1), cols)
    return _conv_result(products, x, weight, bias, cols, groups, out_hw, layout)


conv_gemm_windows_channels_last = Mutant(
    "conv_gemm_windows_channels_last", f"conv2d's GEMM path (reductions of {GEMM_MIN_PRODUCTS}+ "
    "products) flattens windows as (KH, KW, C) but the weight as (C, KH, KW); the weight "
    "gradient reuses those columns", ("conv2d.forward", "conv2d.grad_weight"), base=strided,
    conv2d_forward=_gemm_forward)


# --- conv2d: a vector path over filters -----------------------------------------------------

def _filter_vector_forward(x, weight, bias, *, stride, padding, dilation, groups):
    out_hw = _validated_conv(x, weight, bias, stride, padding, dilation, groups)
    f, cg, kh, kw = weight.shape
    per_group = f // groups
    if per_group < VECTOR_MIN_FILTERS:
        return strided.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                      dilation=dilation, groups=groups)
    layout = _conv_layout(stride, padding, dilation)
    cols = _columns(x, (kh, kw), groups, out_hw, **layout)
    w = weight.reshape(groups, per_group, cg * kh * kw)
    products = np.zeros((groups, per_group, cols.shape[-1]), x.dtype)
    full = per_group - per_group % VECTOR_LANES
    for start in range(0, full, VECTOR_LANES):
        products[:, start:start + VECTOR_LANES] = np.matmul(w[:, start:start + VECTOR_LANES], cols)
    for k in range(full, per_group - 1):      # the tail, filter by filter; meant per_group
        products[:, k:k + 1] = np.matmul(w[:, k:k + 1], cols)
    return _conv_result(products, x, weight, bias, cols, groups, out_hw, layout)


conv_filter_vector_tail_short = Mutant(
    "conv_filter_vector_tail_short", f"conv2d's vector path ({VECTOR_MIN_FILTERS}+ filters per "
    f"group, lanes of {VECTOR_LANES}) stops its tail loop one filter short: the last filter of "
    f"each group is 0 when the count is not a multiple of {VECTOR_LANES}",
    # Not conv2d.adjoint: one inner product over a float32 case with 63+ filters does not show
    # a single missing filter above its rounding bound (it does in float64, when drawn).
    ("conv2d.forward",), base=strided, conv2d_forward=_filter_vector_forward)


# --- conv2d: a half-precision accumulator for long float32 reductions -----------------------

def _half_accumulator_forward(x, weight, bias, *, stride, padding, dilation, groups):
    out_hw = _validated_conv(x, weight, bias, stride, padding, dilation, groups)
    f, cg, kh, kw = weight.shape
    reduction = cg * kh * kw
    if x.dtype != np.float32 or reduction < HALF_MIN_PRODUCTS:
        return strided.conv2d_forward(x, weight, bias, stride=stride, padding=padding,
                                      dilation=dilation, groups=groups)
    layout = _conv_layout(stride, padding, dilation)
    cols = _columns(x, (kh, kw), groups, out_hw, **layout)
    w = weight.reshape(groups, f // groups, reduction)
    # The mixed-precision kernel: float32 products, float16 accumulator.
    acc = np.zeros((groups, f // groups, cols.shape[-1]), np.float16)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(reduction):
            acc += w[:, :, k:k + 1] * cols[:, k:k + 1]
    return _conv_result(acc.astype(x.dtype), x, weight, bias, cols, groups, out_hw, layout)


conv_long_reduction_in_float16 = Mutant(
    "conv_long_reduction_in_float16", f"conv2d accumulates float32 reductions of "
    f"{HALF_MIN_PRODUCTS}+ products in a float16 accumulator (a mixed-precision kernel)",
    ("conv2d.forward",), base=strided, conv2d_forward=_half_accumulator_forward)


# --- conv2d: the weight gradient split over two halves of the batch -------------------------

def _halves_backward(grad_out, cache):
    cols, weight, has_bias, x_shape, stride, padding, dilation, groups, out_shape = cache
    grad_x, grad_weight, grad_bias = strided.conv2d_backward(grad_out, cache)
    n, f, ho, wo = out_shape
    if math.prod(x_shape) < SPLIT_MIN_ELEMENTS or n < 2:
        return grad_x, grad_weight, grad_bias
    g = np.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(groups, f // groups, -1)
    middle = n // 2 * ho * wo
    grad_weight = np.zeros(weight.shape, weight.dtype)
    for start, stop in ((0, middle), (middle, g.shape[-1])):
        # Bug: each half reads its columns from offset 0, so the first half is read twice.
        part = np.matmul(g[..., start:stop], cols[..., :stop - start].transpose(0, 2, 1))
        grad_weight += part.reshape(weight.shape)
    return grad_x, grad_weight, grad_bias


conv_weight_grad_half_read_twice = Mutant(
    "conv_weight_grad_half_read_twice", f"conv2d splits the weight gradient over two halves of "
    f"the batch once x has {SPLIT_MIN_ELEMENTS}+ elements, and the second half reads the first "
    "half's columns", ("conv2d.grad_weight", "conv2d.adjoint"), base=strided,
    conv2d_backward=_halves_backward)


# --- conv2d: col2im by one fancy-index addition ---------------------------------------------

def _flat_index_backward(grad_out, cache):
    cols, weight, has_bias, x_shape, stride, padding, dilation, groups, out_shape = cache
    if math.prod(x_shape) < COL2IM_MIN_ELEMENTS:
        return strided.conv2d_backward(grad_out, cache)
    check_grad_out(grad_out, out_shape, cols.dtype)
    n, f, ho, wo = out_shape
    _, c, h, w = x_shape
    _, cg, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    g = np.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(groups, f // groups, -1)
    grad_weight = np.matmul(g, cols.transpose(0, 2, 1)).reshape(weight.shape)
    w_t = weight.reshape(groups, f // groups, -1).transpose(0, 2, 1)
    grad_cols = np.matmul(w_t, g).reshape(c, kh, kw, n, ho, wo)
    hp, wp = h + 2 * ph, w + 2 * pw
    axes = np.ix_(range(c), range(kh), range(kw), range(n), range(ho), range(wo))
    ci, a, b, ni, i, j = axes
    index = ((ci * n + ni) * hp + i * sh + a * dh) * wp + j * sw + b * dw
    grad_pad = np.zeros(c * n * hp * wp, cols.dtype)
    grad_pad[index.ravel()] += grad_cols.ravel()   # meant np.add.at: repeated indices add once
    grad_x = grad_pad.reshape(c, n, hp, wp)[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)
    grad_bias = grad_out.sum(axis=(0, 2, 3)) if has_bias else None
    return np.ascontiguousarray(grad_x), grad_weight, grad_bias


conv_col2im_fancy_index_add = Mutant(
    "conv_col2im_fancy_index_add", f"conv2d's col2im for inputs of {COL2IM_MIN_ELEMENTS}+ "
    "elements scatters all kernel offsets in one grad[index] += cols: where windows overlap, "
    "repeated indices add only once", ("conv2d.grad_x", "conv2d.adjoint"), base=strided,
    conv2d_backward=_flat_index_backward)


# --- pool2d: avg backward in row tiles ------------------------------------------------------

def _tiled_avg_backward(grad_out, cache):
    x_shape, dtype, mode, kernel_size, stride, padding, winners, out_shape = cache
    ho, wo = out_shape[2:]
    if mode != "avg" or ho <= POOL_TILE_ROWS:
        return strided.pool2d_backward(grad_out, cache)
    check_grad_out(grad_out, out_shape, dtype)
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x_shape
    grad_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype)
    share = grad_out / np.asarray(kh * kw, dtype)
    for top in range(0, ho, POOL_TILE_ROWS):
        rows_out = min(POOL_TILE_ROWS, ho - top)
        for a in range(kh):
            first = top + a                     # meant top * sh + a: the tile's first input row
            rows = slice(first, first + (rows_out - 1) * sh + 1, sh)
            for b in range(kw):
                cols = slice(b, b + (wo - 1) * sw + 1, sw)
                grad_pad[:, :, rows, cols] += share[:, :, top:top + rows_out]
    return strided._unpad(grad_pad, padding, x_shape)


avg_pool_grad_tile_offset_unstrided = Mutant(
    "avg_pool_grad_tile_offset_unstrided", f"avg pool backward, above {POOL_TILE_ROWS} output "
    f"rows, works in tiles of {POOL_TILE_ROWS} rows whose input offset forgets the stride",
    ("pool2d.grad_x", "pool2d.adjoint"), base=strided, pool2d_backward=_tiled_avg_backward)


# --- pool2d: max/min over large planes in row tiles -----------------------------------------

def _row_tiled_forward(x, *, mode, kernel_size, stride, padding):
    if mode == "avg" or math.prod(np.shape(x)[2:]) < PLANE_TILE_MIN:
        return strided.pool2d_forward(x, mode=mode, kernel_size=kernel_size, stride=stride,
                                      padding=padding)
    ho, wo = pool2d_output_size(x, mode, kernel_size, stride, padding)
    strided.capabilities.require("pool2d", x=x, mode=mode, kernel_size=kernel_size,
                                 stride=stride, padding=padding)
    kernel_size, stride, padding = tuple(kernel_size), tuple(stride), tuple(padding)
    pad_value = -np.inf if mode == "max" else np.inf
    win = strided._windows(strided._pad(x, padding, pad_value), kernel_size, stride, (1, 1),
                           (ho, wo))
    out = np.full(x.shape[:2] + (ho, wo), pad_value, x.dtype)
    winners = np.zeros(out.shape, np.min_scalar_type(math.prod(kernel_size) - 1))
    for top in range(0, ho, POOL_TILE_ROWS):
        rows = slice(top, min(top + POOL_TILE_ROWS, ho - 1))   # meant ho
        strided._pool_windows(win[:, :, rows], mode, out[:, :, rows], winners[:, :, rows])
    cache = (x.shape, x.dtype, mode, kernel_size, stride, padding, winners, out.shape)
    return out, cache


max_pool_large_plane_last_row_skipped = Mutant(
    "max_pool_large_plane_last_row_skipped", f"max/min pooling of planes of {PLANE_TILE_MIN}+ "
    f"elements works in tiles of {POOL_TILE_ROWS} output rows, the last tile ending at Ho - 1: "
    "the last output row is never computed", ("pool2d.forward", "pool2d.grad_x"), base=strided,
    pool2d_forward=_row_tiled_forward)


# --- linear: a tiled dot product ------------------------------------------------------------

def _tiled_linear_forward(x, weight, bias):
    check_linear(x, weight, bias)
    if x.shape[1] < LINEAR_TILE_MIN_FEATURES:
        return dense.linear_forward(x, weight, bias)
    dense.capabilities.require("linear", x=x, weight=weight, bias=bias)
    out = np.zeros((x.shape[0], weight.shape[0]), x.dtype)
    for start in range(0, x.shape[1], LINEAR_TILE):
        stop = min(start + LINEAR_TILE, x.shape[1]) - 1    # an inclusive end used as exclusive
        out += x[:, start:stop] @ weight[:, start:stop].T
    if bias is not None:
        out += bias
    return out, (x.copy(), weight.copy(), bias is not None)


linear_tiled_dot_skips_tile_edge = Mutant(
    "linear_tiled_dot_skips_tile_edge", f"linear with {LINEAR_TILE_MIN_FEATURES}+ input features "
    f"sums tiles of {LINEAR_TILE} features whose end is one short: the last feature of every tile "
    "is left out", ("linear.forward", "linear.adjoint"), base=dense,
    linear_forward=_tiled_linear_forward)


# --- linear: the weight gradient over workers -----------------------------------------------

def _threaded_linear_backward(grad_out, cache):
    x, weight, has_bias = cache
    if x.size <= THREADED_MIN_ELEMENTS:
        return dense.linear_backward(grad_out, cache)
    check_grad_out(grad_out, (x.shape[0], weight.shape[0]), x.dtype)
    grad_x = grad_out @ weight
    partials = [grad_out[part].T @ x[part]
                for part in np.array_split(np.arange(x.shape[0]), WORKERS)]
    grad_weight = partials[0]
    for k in range(1, len(partials) - 1):      # the join: meant range(1, len(partials))
        grad_weight += partials[k]
    grad_bias = grad_out.sum(axis=0) if has_bias else None
    return grad_x, grad_weight, grad_bias


linear_threaded_weight_grad_drops_partial = Mutant(
    "linear_threaded_weight_grad_drops_partial", f"linear splits the weight gradient over "
    f"{WORKERS} workers once x has more than {THREADED_MIN_ELEMENTS} elements, and the join "
    "drops the last worker's partial sum", ("linear.grad_weight", "linear.adjoint"), base=dense,
    linear_backward=_threaded_linear_backward)


# --- softmax and cross-entropy: blocked over classes ----------------------------------------

def _blocked_max(z, axis):
    """The maximum along ``axis``, block by block of CLASS_BLOCK classes."""
    k = z.shape[axis]
    top = np.full(z.shape[:axis] + (1,) + z.shape[axis + 1:], -np.inf)
    for start in range(0, k - CLASS_BLOCK, CLASS_BLOCK):     # meant range(0, k, CLASS_BLOCK)
        block = np.take(z, range(start, min(start + CLASS_BLOCK, k)), axis=axis)
        top = np.maximum(top, block.max(axis=axis, keepdims=True))
    return top


def _blocked_softmax_forward(x, *, axis):
    ax = check_softmax(x, axis)
    if x.shape[ax] < BLOCKED_MIN_CLASSES:
        return dense.softmax_forward(x, axis=axis)
    dense.capabilities.require("softmax", x=x, axis=axis)
    z = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        e = np.exp(z - _blocked_max(z, ax))
        y = e / e.sum(axis=ax, keepdims=True)
    return y.astype(x.dtype), (y, ax, x.dtype)


softmax_blocked_max_misses_last_block = Mutant(
    "softmax_blocked_max_misses_last_block", f"softmax over {BLOCKED_MIN_CLASSES}+ classes takes "
    f"the maximum in blocks of {CLASS_BLOCK} and misses the last block: exp overflows (inf / inf) "
    "when the largest input lies there and exceeds the others by 710 or more",
    ("softmax.forward",), base=dense, softmax_forward=_blocked_softmax_forward)


def _blocked_cross_entropy_forward(logits, target):
    check_softmax_cross_entropy(logits, target)
    if logits.shape[1] < BLOCKED_MIN_CLASSES:
        return dense.softmax_cross_entropy_forward(logits, target)
    dense.capabilities.require("softmax_cross_entropy", logits=logits, target=target)
    z = logits.astype(np.float64)
    k = z.shape[1]
    with np.errstate(under="ignore"):
        e = np.exp(z - z.max(axis=1, keepdims=True))
    total = np.zeros((z.shape[0], 1))
    for start in range(0, k - k % CLASS_BLOCK, CLASS_BLOCK):   # full blocks only: tail dropped
        total += e[:, start:start + CLASS_BLOCK].sum(axis=1, keepdims=True)
    lse = z.max(axis=1) + np.log(total[:, 0])
    loss = np.mean(lse - z[np.arange(z.shape[0]), target])
    return np.array(loss, dtype=logits.dtype), (e / total, target.copy(), logits.dtype)


cross_entropy_blocked_sum_drops_tail = Mutant(
    "cross_entropy_blocked_sum_drops_tail", f"cross-entropy over {BLOCKED_MIN_CLASSES}+ classes "
    f"sums exp in blocks of {CLASS_BLOCK} and drops the last partial block (K % {CLASS_BLOCK} "
    "classes)", ("softmax_cross_entropy.forward", "softmax_cross_entropy.grad_logits"),
    base=dense, softmax_cross_entropy_forward=_blocked_cross_entropy_forward)


# --- relu: blocks with a remainder ----------------------------------------------------------

def _blocked_relu_forward(x):
    check_relu(x)
    if x.size <= RELU_BLOCK:
        return dense.relu_forward(x)
    dense.capabilities.require("relu", x=x)
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    full = flat.size - flat.size % RELU_BLOCK
    for start in range(0, full, RELU_BLOCK):
        block = flat[start:start + RELU_BLOCK]
        out[start:start + RELU_BLOCK] = np.where(block < 0, x.dtype.type(0), block)
    out[full:] = flat[full:]                 # the remainder loop copies without clamping
    return out.reshape(x.shape), (x > 0, x.shape, x.dtype)


relu_block_remainder_unclamped = Mutant(
    "relu_block_remainder_unclamped", f"relu above {RELU_BLOCK} elements works in blocks of "
    f"{RELU_BLOCK}; the remainder is copied without clamping, so negative values pass",
    ("relu.forward",), base=dense, relu_forward=_blocked_relu_forward)


# --- cases past each threshold --------------------------------------------------------------

def _conv(batch, channels, size, filters, kernel, *, stride=1, padding=0, groups=1,
          dtype="float64", seed=0):
    return Conv2dCase(batch=batch, channels=channels, height=size, width=size, filters=filters,
                      kernel=(kernel, kernel), stride=(stride, stride), padding=(padding, padding),
                      dilation=(1, 1), groups=groups, bias=True, dtype=dtype,
                      layout="contiguous", magnitude=0, seed=seed)


def _pool(batch, channels, size, mode, kernel, stride):
    return Pool2dCase(batch=batch, channels=channels, height=size, width=size, mode=mode,
                      kernel=(kernel, kernel), stride=(stride, stride), padding=(0, 0),
                      dtype="float64", layout="contiguous", ties=False, magnitude=0, seed=0)


def _layer(op, shape, magnitude=0, seed=0, **extra):
    return OPS[op].case_type(shape=shape, dtype="float64", layout="contiguous",
                             magnitude=magnitude, seed=seed, **extra)


# mutant name -> (op, check, a case past the threshold that the check fails, one just below it
# that the check passes).
THRESHOLD_CASES = {
    "conv_batch_remainder_dropped": (
        "conv2d", "forward", _conv(17, 3, 32, 16, 5, padding=2), _conv(8, 3, 32, 16, 5, padding=2)),
    "conv_gemm_windows_channels_last": (
        "conv2d", "forward", _conv(2, 64, 16, 64, 3, stride=2, padding=1),
        _conv(2, 7, 16, 64, 3, stride=2, padding=1)),
    "conv_filter_vector_tail_short": (
        "conv2d", "forward", _conv(2, 16, 16, 17, 3, padding=1),
        _conv(2, 16, 16, 15, 3, padding=1)),
    "conv_long_reduction_in_float16": (
        "conv2d", "forward", _conv(1, 256, 8, 8, 3, padding=1, dtype="float32"),
        _conv(1, 227, 8, 8, 3, padding=1, dtype="float32")),
    "conv_weight_grad_half_read_twice": (
        "conv2d", "grad_weight", _conv(4, 8, 32, 8, 3, padding=1),
        _conv(4, 8, 31, 8, 3, padding=1)),
    "conv_col2im_fancy_index_add": (
        "conv2d", "grad_x", _conv(4, 16, 32, 16, 3, padding=1),
        _conv(4, 16, 31, 16, 3, padding=1)),
    "avg_pool_grad_tile_offset_unstrided": (
        "pool2d", "grad_x", _pool(2, 4, 64, "avg", 2, 2), _pool(2, 4, 33, "avg", 2, 2)),
    "max_pool_large_plane_last_row_skipped": (
        "pool2d", "forward", _pool(2, 4, 64, "max", 2, 2), _pool(2, 4, 63, "max", 2, 2)),
    "linear_tiled_dot_skips_tile_edge": (
        "linear", "forward", _layer("linear", (4, 1280), out_features=100, bias=True),
        _layer("linear", (4, 1023), out_features=100, bias=True)),
    "linear_threaded_weight_grad_drops_partial": (
        "linear", "grad_weight", _layer("linear", (128, 1280), out_features=100, bias=True),
        _layer("linear", (128, 1024), out_features=100, bias=True)),
    "softmax_blocked_max_misses_last_block": (
        "softmax", "forward", _layer("softmax", (4, 64), magnitude=20, seed=1),
        _layer("softmax", (4, 63), magnitude=20, seed=1)),
    "cross_entropy_blocked_sum_drops_tail": (
        "softmax_cross_entropy", "forward", _layer("softmax_cross_entropy", (4, 100)),
        _layer("softmax_cross_entropy", (4, 63))),
    "relu_block_remainder_unclamped": (
        "relu", "forward", _layer("relu", (2, 16, 48, 48)), _layer("relu", (2, 16, 32, 64))),
}
LARGE_CASES = {name: (op, check, large) for name, (op, check, large, _) in THRESHOLD_CASES.items()}
JUST_BELOW_CASES = {name: (op, check, below)
                    for name, (op, check, _, below) in THRESHOLD_CASES.items()}
