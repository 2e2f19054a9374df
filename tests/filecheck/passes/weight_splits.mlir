// RUN: dlac-opt %s -p lower-to-loops | filecheck %s

// A conv whose output channels run as k_splits [0, 2, 4], each with its own multiplier:
// one loop.kernel per run, writing its slice of the output (k_offset) of the one buffer.
builtin.module {
  func.func @main(%x: tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8> {
    %w = graph.constant {value = dense<1> : tensor<1x1x4x4xi8>} : () -> tensor<1x1x4x4xi8>
    %y = qgraph.conv %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], group = 1, multiplier = 0.01 : f32, act = "none", in_scale = 0.03 : f32, w_scale = 0.005 : f32, out_scale = 0.03 : f32, k_splits = [0, 2, 4], split_multipliers = [0.01 : f32, 0.5 : f32]} : (tensor<1x4x4x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x4x4x4xi8>
    func.return %y : tensor<1x4x4x4xi8>
  }
}
// CHECK: sym_name = "conv_0", kind = "conv", dims = {N = 1, K = 2, {{.*}}multiplier = 0.01 : f32{{.*}}k_offset = 0}
// CHECK: sym_name = "conv_1", kind = "conv", dims = {N = 1, K = 2, {{.*}}multiplier = 0.5 : f32{{.*}}k_offset = 2}
// CHECK-NOT: sym_name = "conv_2"
