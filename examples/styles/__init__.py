"""Small layer implementations, each written in one common style the harness does not speak.

    nhwc_layers       channels-last x (N, H, W, C), weights (KH, KW, C, F), TensorFlow style
    in_out_weights    weights (C, F, KH, KW)
    column_bias       bias (F, 1), im2col with a matrix product
    single_image      functions of one image x (C, H, W)
    layer_classes     objects with forward(x) / backward(dout) that keep their caches

None of them imports anything from the harness but Capabilities; ``adapted`` presents each
through its adapter from conformance.adapters, which is what gets certified.
"""
