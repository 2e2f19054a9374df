// RUN: dlac-opt %s -p legalize-conv | filecheck %s

// Unequal strides and pads: explicit pad by the difference, one stride-1 conv, then a
// strided slice keeps the rows the original stride 2 produced.
builtin.module {
  func.func @main(%x: tensor<1x4x9x9xi8>) -> tensor<1x3x5x9xi8> {
    %w = graph.constant {value = dense<1> : tensor<3x3x4x3xi8>} : () -> tensor<3x3x4x3xi8>
    %y = qgraph.conv %x, %w {strides = [2, 1], pads = [1, 0, 1, 2], dilations = [1, 1], group = 1, multiplier = 0.01 : f32, act = "none", in_scale = 0.03 : f32, w_scale = 0.005 : f32, out_scale = 0.03 : f32} : (tensor<1x4x9x9xi8>, tensor<3x3x4x3xi8>) -> tensor<1x3x5x9xi8>
    func.return %y : tensor<1x3x5x9xi8>
  }
  func.func @transposed(%t: tensor<1x2x4x4xi8>) -> tensor<1x3x9x9xi8> {
    %w = graph.constant {value = dense<1> : tensor<3x3x2x3xi8>} : () -> tensor<3x3x2x3xi8>
    %y = qgraph.conv %t, %w {strides = [1, 1], pads = [2, 2, 2, 2], dilations = [1, 1], group = 1, multiplier = 0.01 : f32, act = "none", in_scale = 0.03 : f32, w_scale = 0.005 : f32, out_scale = 0.03 : f32, input_dilation = [2, 2]} : (tensor<1x2x4x4xi8>, tensor<3x3x2x3xi8>) -> tensor<1x3x9x9xi8>
    func.return %y : tensor<1x3x9x9xi8>
  }
}
// CHECK: dense<[0, 0, 1, 0, 0, 0, 1, 2]>
// CHECK: %[[P:.*]] = graph.pad %x, %{{.*}} {mode = "constant"} : {{.*}} -> tensor<1x4x11x11xi8>
// CHECK: %[[C:.*]] = qgraph.conv %[[P]], %w {strides = [1, 1], pads = [0, 0, 0, 0]{{.*}} -> tensor<1x3x9x9xi8>
// CHECK: dense<[2, 1]>
// CHECK: graph.slice %[[C]], {{.*}} -> tensor<1x3x5x9xi8>

// A transposed conv (input dilation 2): zeros inserted on the host, then a plain conv.
// CHECK-LABEL: func.func @transposed
// CHECK: %[[Z:.*]] = qgraph.zero_insert %{{.*}} {factors = [2, 2]} : {{.*}} -> tensor<1x2x7x7xi8>
// CHECK: qgraph.conv %[[Z]], %{{.*}} {strides = [1, 1], pads = [2, 2, 2, 2]
// CHECK-NOT: input_dilation
