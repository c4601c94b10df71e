"""Adapters: layers written in other common styles, presented through the harness's interface.

The harness calls functions over a batch in NCHW with weight (F, C // groups, KH, KW) and bias
(F,), each forward returning (out, cache) (README, "Certify your own implementation"). Each
adapter here takes an implementation written another way and returns an ``Adapted``
implementation that speaks the harness's interface:

    channels_last(impl)                      conv2d / pool2d on x of shape (N, H, W, C)
    weight_layout(impl, conv2d="HWIO")       weights stored in another axis order
    column_bias(impl)                        bias of shape (F, 1)
    single_image(impl)                       functions of one image x (C, H, W)
    layer_classes(impl, conv2d=factory, ...) objects with forward(x) / backward(dout)

Adapters compose, e.g. ``channels_last(weight_layout(impl, conv2d="HWIO"))``. What every
adapter guarantees:

- Claims pass through unchanged: ``name`` and ``capabilities`` are the wrapped
  implementation's. A forward call that uses a claimable feature not claimed raises
  NotImplementedError before the wrapped code runs (a backward, when ``backward`` is not
  claimed), and so does a forward call outside a declared limit, so code written without the
  harness in mind need not refuse anything itself.
  Values that are no feature at all (an int dtype, an unknown pooling mode) are left for the
  wrapped code's own validation.
- Inputs are never modified. An array the adapter rearranges reaches the wrapped code as a
  read-only C-contiguous copy when the caller's array is C-contiguous (a write into it raises
  instead of going unseen) and as a non-contiguous view otherwise (the wrapped code sees
  non-contiguous memory exactly when the caller passes it, and a write would land in the
  caller's array, where the ``no_mutation`` check sees it). Arrays it does not rearrange are
  passed as they are.
- Values are never changed, only moved between layouts, so a wrong output or gradient of the
  wrapped code fails exactly as it would without the adapter. A value of an unexpected kind or
  rank is passed through unchanged, for the wrapped code's validation (inputs) or the harness
  (results) to report.
- Rearranged results come back as new C-contiguous arrays, so sharing memory between such a
  result and the wrapped code's own buffers cannot be seen through the adapter (and cannot
  harm its callers either).
"""
from __future__ import annotations

import copy
import functools
import inspect

import numpy as np

from conformance.capabilities import FEATURES, features_used
from conformance.ops import OPS

FUNCTIONS = tuple(f"{op}_{half}" for op in FEATURES for half in ("forward", "backward"))
NCHW_TO_NHWC, NHWC_TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)
STANDARD_WEIGHT_LAYOUT = {"conv2d": "OIHW", "linear": "OI"}   # O: filters, I: input channels
WEIGHTED_OPS = ("conv2d", "linear")
# The positional arguments of each forward (the others take x only) ...
_POSITIONAL = {"conv2d": ("x", "weight", "bias"), "linear": ("x", "weight", "bias"),
               "dropout": ("x", "mask"), "softmax_cross_entropy": ("logits", "target")}
# ... and how many of them a layer object's forward takes (the rest go to its constructor).
_LAYER_INPUTS = {"softmax_cross_entropy": 2}


class Adapted:
    """An implementation built by an adapter around ``wrapped``.

    name and capabilities are the wrapped implementation's; every function of the interface the
    wrapped one has is present, adapted or as it was, and refuses unclaimed features.
    ``unchecked`` holds the same functions without that refusal (adapters that wrap this one
    use them, so claims are checked once, on the call as the harness makes it).
    """

    def __init__(self, wrapped, **functions):
        self.wrapped = wrapped
        self.name = getattr(wrapped, "name", type(wrapped).__name__)
        self.capabilities = wrapped.capabilities
        self.unchecked = {**_functions_of(wrapped), **functions}
        for function_name, function in self.unchecked.items():
            setattr(self, function_name, _refusing(self.capabilities, function_name, function))
        if hasattr(wrapped, "warm_up"):
            self.warm_up = wrapped.warm_up

    def __repr__(self):
        return f"<adapted {self.name}: {self.wrapped!r}>"


def channels_last(impl, ops=("conv2d", "pool2d")) -> Adapted:
    """For conv2d and pool2d written on x of shape (N, H, W, C).

    The wrapped forward gets x as (N, H, W, C) and returns out as (N, Ho, Wo, F); its backward
    gets grad_out as (N, Ho, Wo, F) and returns grad_x as (N, H, W, C) (first in the tuple for
    conv2d). Weights, biases and every other argument and result pass unchanged: combine with
    ``weight_layout`` for weights stored as (KH, KW, C, F). The other ops need no adapter:
    element-wise ops and dropout do not care about the layout, and flatten's contract is a
    C-order reshape of whatever array it gets.
    """
    return Adapted(impl, **{name: function for op in ops for name, function in _relayout_first(
        impl, op, NCHW_TO_NHWC, NHWC_TO_NCHW).items()})


def weight_layout(impl, *, conv2d: str | None = None, linear: str | None = None) -> Adapted:
    """For weights stored in another axis order.

    Name the layout the wrapped code uses with the letters of the harness's own: conv2d's
    weight is "OIHW" (O = F filters, I = C // groups input channels, H and W the kernel), so
    conv2d="IOHW" means (C // groups, F, KH, KW) and conv2d="HWIO" means (KH, KW, C // groups,
    F); linear's is "OI", so linear="IO" means weight (in, out) with out = x @ weight + bias.
    The wrapped forward gets the weight in its layout and its backward returns grad_weight in
    that layout; both are turned back into the harness's.
    """
    layouts = {op: layout for op, layout in (("conv2d", conv2d), ("linear", linear)) if layout}
    functions = {}
    for op, layout in layouts.items():
        standard = STANDARD_WEIGHT_LAYOUT[op]
        if sorted(layout) != sorted(standard):
            raise ValueError(f"{op}: layout must be an order of the letters {standard!r}, "
                             f"got {layout!r}")
        to_wrapped = tuple(standard.index(axis) for axis in layout)
        functions.update(_relayout_weight(impl, op, to_wrapped, tuple(np.argsort(to_wrapped))))
    return Adapted(impl, **functions)


def column_bias(impl, ops=("conv2d",)) -> Adapted:
    """For a bias of shape (F, 1) (a column) instead of (F,), in the ops named.

    The wrapped forward gets bias[:, None], a view of the caller's bias; the grad_bias (F, 1)
    of the wrapped backward comes back as its view (F,). A grad_bias of any other shape raises
    ValueError, even (F,), which the harness would accept but the wrapped code's own update of
    its (F, 1) bias would broadcast into an (F, F) array.
    """
    return Adapted(impl, **{name: function for op in ops
                            for name, function in _column_bias_op(impl, op).items()})


def single_image(impl, ops=("conv2d", "pool2d")) -> Adapted:
    """For conv2d and pool2d written for one image: x (C, H, W) -> out (F, Ho, Wo).

    The forward calls the wrapped forward on each image x[n] (a view: the wrapped code reads
    the caller's memory) and stacks the outputs; the cache is the list of per-image caches. The
    backward calls the wrapped backward on each image's grad_out and cache, stacks the input
    gradients, and sums each parameter gradient (grad_weight, grad_bias) over the batch.
    The wrapped functions get every other argument unchanged.
    """
    return Adapted(impl, **{name: function for op in ops
                            for name, function in _single_image_op(impl, op).items()})


def layer_classes(impl, *, weight_grad: str = "dW", bias_grad: str = "db",
                  **factories) -> Adapted:
    """For layer objects with forward(x) -> out and backward(dout) -> dx that keep their caches.

    ``impl`` supplies name, capabilities and any op given as plain functions; each keyword
    op=factory (conv2d, pool2d, relu, linear, ...) names a callable that builds one layer. The
    factory gets every argument of the harness's forward except the layer's inputs (x; logits
    and target for softmax_cross_entropy), with the harness's keywords: conv2d's factory is
    called as factory(weight, bias, stride=, padding=, dilation=, groups=), pool2d's as
    factory(mode=, kernel_size=, stride=, padding=), relu's as factory().

    Every forward builds a fresh layer and calls layer.forward(x); the layer object is the
    cache. Every backward runs on a deep copy of that object (the arrays the caller passed stay
    shared), so a layer that updates its own weights or accumulates gradients in backward
    starts from the same state each time, as the harness's repeated backward calls require.
    A consequence: a bug that needs one layer object to live through several training steps
    (a gradient accumulated and never reset) cannot show through this adapter.

    conv2d and linear layers get copies of weight and bias, which they may keep and update.
    Their gradients are read after backward from the attributes ``weight_grad`` and
    ``bias_grad`` (default dW, db), or, when the factory takes a keyword ``optimizer``, from a
    GradientRecorder passed as that optimizer: the layer calls optimizer.update(param, grad).
    """
    unknown = sorted(set(factories) - set(FEATURES))
    if unknown:
        raise TypeError(f"layer_classes: unknown ops {unknown}; known: {list(FEATURES)}")
    functions = {}
    for op, factory in factories.items():
        functions.update(_layer_functions(op, factory, weight_grad, bias_grad))
    return Adapted(impl, **functions)


class GradientRecorder:
    """The optimizer layer_classes gives a layer that hands its gradients to an optimizer.

    update(param, grad) records a copy of grad as the gradient of "weight" or "bias" (the
    parameter ``param`` is, or failing that the only one of its shape) and then applies plain
    SGD, param -= grad, to the layer's own copy: a layer whose input gradient reads weights it
    has already updated fails, as it would give wrong gradients in training. Returns param.
    """

    def __init__(self, parameters: dict):
        self.parameters = {name: p for name, p in parameters.items() if p is not None}
        self.grads: dict[str, np.ndarray] = {}

    def update(self, param, grad):
        name = next((n for n, p in self.parameters.items() if p is param), None)
        if name is None:
            same_shape = [n for n, p in self.parameters.items()
                          if np.shape(p) == np.shape(param)]
            if len(same_shape) != 1:
                raise ValueError(f"optimizer.update: param of shape {np.shape(param)} is none "
                                 f"of the layer's parameters {list(self.parameters)}")
            name = same_shape[0]
        self.grads[name] = np.array(grad, copy=True)
        param -= grad
        return param


# --- helpers --------------------------------------------------------------------------------

def _functions_of(impl) -> dict:
    if isinstance(impl, Adapted):
        return dict(impl.unchecked)
    return {name: getattr(impl, name) for name in FUNCTIONS if hasattr(impl, name)}


def _pair_of(impl, op):
    """The wrapped (forward, backward) of op, unchecked; None where absent."""
    functions = _functions_of(impl)
    return functions.get(f"{op}_forward"), functions.get(f"{op}_backward")


def _named(op, forward, backward, wrapped_backward) -> dict:
    functions = {f"{op}_forward": forward}
    if wrapped_backward is not None:
        functions[f"{op}_backward"] = backward
    return functions


def _refusing(capabilities, function_name, function):
    """function, refusing what is not claimed (see the module docstring)."""
    op, _, half = function_name.rpartition("_")
    if half == "backward":
        @functools.wraps(function)
        def backward(grad_out, cache):
            if not capabilities.claims(op, "backward"):
                raise NotImplementedError(f"{op}: backward not claimed by this implementation")
            return function(grad_out, cache)
        return backward

    names = _POSITIONAL.get(op, ("x",))

    @functools.wraps(function)
    def forward(*args, **kwargs):
        try:
            used = features_used(op, **dict(zip(names, args)), **kwargs)
        except (KeyError, TypeError, ValueError):
            used = frozenset()   # a malformed call: the wrapped code's validation reports it
        missing = sorted(used & set(FEATURES[op]) - capabilities.claimed(op))
        if missing:
            raise NotImplementedError(f"{op}: feature(s) {missing} not claimed by this "
                                      "implementation")
        outside = OPS[op].violated_limits({**dict(zip(names, args)), **kwargs},
                                          capabilities.limited(op))
        if outside:
            raise NotImplementedError(f"{op}: call outside the declared limit(s) {outside} of "
                                      "this implementation")
        return function(*args, **kwargs)
    return forward


def _to_wrapped(a, axes):
    """a with its axes permuted, for the wrapped code (see the module docstring)."""
    if not isinstance(a, np.ndarray) or a.ndim != len(axes):
        return a
    moved = a.transpose(axes)
    if not a.flags.c_contiguous:
        return moved
    moved = np.ascontiguousarray(moved)
    moved.flags.writeable = False
    return moved


def _to_caller(a, axes):
    """A result of the wrapped code, permuted back into a new C-contiguous array."""
    if not isinstance(a, np.ndarray) or a.ndim != len(axes):
        return a
    return np.ascontiguousarray(a.transpose(axes))


def _map_out(result, convert):
    """(convert(out), cache) for a forward's (out, cache); anything else unchanged."""
    if isinstance(result, tuple) and len(result) == 2:
        return convert(result[0]), result[1]
    return result


def _map_grads(result, x=None, weight=None, bias=None):
    """A backward's result with each named gradient converted: grad_x alone, or the tuple
    (grad_x, grad_weight, grad_bias) of conv2d and linear; anything else unchanged."""
    if isinstance(result, tuple) and len(result) == 3:
        return tuple(convert(g) if convert else g
                     for g, convert in zip(result, (x, weight, bias)))
    if isinstance(result, np.ndarray) and x:
        return x(result)
    return result


def _relayout_first(impl, op, to_wrapped, to_caller) -> dict:
    """op with x, out, grad_out and grad_x permuted between the caller's and wrapped layout."""
    forward, backward = _pair_of(impl, op)
    if forward is None:
        return {}

    def relaid_forward(x, *args, **kwargs):
        result = forward(_to_wrapped(x, to_wrapped), *args, **kwargs)
        return _map_out(result, lambda out: _to_caller(out, to_caller))

    def relaid_backward(grad_out, cache):
        result = backward(_to_wrapped(grad_out, to_wrapped), cache)
        return _map_grads(result, x=lambda g: _to_caller(g, to_caller))

    return _named(op, relaid_forward, relaid_backward, backward)


def _relayout_weight(impl, op, to_wrapped, to_caller) -> dict:
    """op with weight and grad_weight permuted between the caller's and the wrapped layout."""
    forward, backward = _pair_of(impl, op)
    if forward is None:
        return {}

    def relaid_forward(x, weight, *args, **kwargs):
        return forward(x, _to_wrapped(weight, to_wrapped), *args, **kwargs)

    def relaid_backward(grad_out, cache):
        return _map_grads(backward(grad_out, cache),
                          weight=lambda g: _to_caller(g, to_caller))

    return _named(op, relaid_forward, relaid_backward, backward)


def _column_bias_op(impl, op) -> dict:
    """op with bias handed over as a column (F, 1) and grad_bias taken back as (F,)."""
    forward, backward = _pair_of(impl, op)
    if forward is None:
        return {}

    def column_forward(x, weight, bias, *args, **kwargs):
        if isinstance(bias, np.ndarray) and bias.ndim == 1:
            bias = bias[:, None]
        return forward(x, weight, bias, *args, **kwargs)

    def column_backward(grad_out, cache):
        return _map_grads(backward(grad_out, cache), bias=_column_to_row)

    return _named(op, column_forward, column_backward, backward)


def _column_to_row(grad_bias):
    if not isinstance(grad_bias, np.ndarray):
        return grad_bias
    if grad_bias.ndim != 2 or grad_bias.shape[1] != 1:
        # (F,) would pass the harness, yet break the wrapped code's own updates of its (F, 1) bias
        raise ValueError(f"grad_bias must be a column (F, 1) like the bias the wrapped code "
                         f"gets, got shape {grad_bias.shape}")
    return grad_bias[:, 0]


def _single_image_op(impl, op) -> dict:
    """op over a batch, calling the wrapped single-image functions once per image."""
    forward, backward = _pair_of(impl, op)
    if forward is None:
        return {}

    def batch_forward(x, *args, **kwargs):
        _expect_batch("x", x)
        results = [forward(image, *args, **kwargs) for image in x]
        return np.stack([out for out, _ in results]), [cache for _, cache in results]

    def batch_backward(grad_out, caches):
        _expect_batch("grad_out", grad_out, len(caches))
        grads = [backward(g, cache) for g, cache in zip(grad_out, caches)]
        if not isinstance(grads[0], tuple):
            return np.stack(grads)
        grad_x, *parameters = zip(*grads)
        return (np.stack(grad_x), *(_sum_over_batch(p) for p in parameters))

    return _named(op, batch_forward, batch_backward, backward)


def _expect_batch(name, a, batch=None):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray (N, C, H, W), got {type(a).__name__}")
    if a.ndim != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W), got shape {a.shape}")
    if batch is not None and a.shape[0] != batch:
        raise ValueError(f"{name} has batch {a.shape[0]}, the forward had {batch}")


def _sum_over_batch(grads):
    if all(g is None for g in grads):
        return None
    return np.sum(np.stack(grads), axis=0)


def _layer_functions(op, factory, weight_grad, bias_grad) -> dict:
    n_inputs = _LAYER_INPUTS.get(op, 1)
    weighted = op in WEIGHTED_OPS
    takes_optimizer = weighted and "optimizer" in inspect.signature(factory).parameters

    def layer_forward(*args, **kwargs):
        inputs, arguments = args[:n_inputs], args[n_inputs:]
        recorder = None
        if weighted:   # the layer owns copies of its parameters and may update them
            arguments = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in arguments)
            if takes_optimizer:
                recorder = GradientRecorder(dict(zip(("weight", "bias"), arguments)))
                kwargs = dict(kwargs, optimizer=recorder)
        layer = factory(*arguments, **kwargs)
        has_bias = weighted and len(arguments) > 1 and arguments[1] is not None
        return layer.forward(*inputs), (layer, recorder, has_bias, args)

    def layer_backward(grad_out, cache):
        layer, recorder, has_bias, caller_arrays = cache
        shared = {id(a): a for a in caller_arrays if isinstance(a, np.ndarray)}
        layer, recorder = copy.deepcopy((layer, recorder), shared)
        grad_x = layer.backward(grad_out)
        if not weighted:
            return grad_x
        if recorder is not None:
            grads = recorder.grads
            missing = [name for name in ("weight", "bias")[:1 + has_bias] if name not in grads]
            if missing:
                raise ValueError(f"{op} layer {type(layer).__name__} handed no gradient of "
                                 f"{missing} to its optimizer in backward")
            return grad_x, grads["weight"], grads.get("bias") if has_bias else None
        return (grad_x, _gradient(layer, op, weight_grad),
                _gradient(layer, op, bias_grad) if has_bias else None)

    return {f"{op}_forward": layer_forward, f"{op}_backward": layer_backward}


def _gradient(layer, op, attribute):
    try:
        return getattr(layer, attribute)
    except AttributeError:
        raise AttributeError(f"{op} layer {type(layer).__name__} has no attribute {attribute!r} "
                             "after backward; name its gradient attributes with "
                             "weight_grad= and bias_grad=") from None
