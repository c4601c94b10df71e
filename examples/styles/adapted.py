"""Each style example presented through its adapter: what `certify` is given, e.g.
``python -m conformance certify examples.styles.adapted:nhwc``."""
from conformance import adapters
from examples.styles import (column_bias, in_out_weights, layer_classes, nhwc_layers,
                             single_image)

# channels-last x and (KH, KW, C, F) weights: two adapters, composed
nhwc = adapters.channels_last(adapters.weight_layout(nhwc_layers, conv2d="HWIO"))

# weights stored (C, F, KH, KW)
in_out = adapters.weight_layout(in_out_weights, conv2d="IOHW")

# bias of shape (F, 1)
column = adapters.column_bias(column_bias)

# functions of one image (C, H, W)
single = adapters.single_image(single_image)

# layer objects that keep their caches; Conv2D keeps dW and db, Dense hands them to an optimizer
layers = adapters.layer_classes(
    layer_classes,
    conv2d=lambda weight, bias, *, stride, padding, dilation, groups: layer_classes.Conv2D(
        weight, bias, stride, padding),
    pool2d=lambda *, mode, kernel_size, stride, padding: layer_classes.Pool2D(
        kernel_size, stride, padding, mode),
    linear=lambda weight, bias, *, optimizer: layer_classes.Dense(weight, bias, optimizer),
    relu=layer_classes.ReLU, flatten=layer_classes.Flatten,
    softmax_cross_entropy=layer_classes.SoftmaxCrossEntropy)
