// RUN: dlac-opt %s -p "quantize{wide-activations=2}" | filecheck %s
// RUN: dlac-opt %s -p quantize | filecheck %s --check-prefix=OFF

// Two-digit activations (passes/wide_activations.py): the HardSwish outputs %h and %g
// feed a conv and a Gemm, so each gets a second table (its low digit, "_lo"); the conv
// and the Gemm run on both digits with the same int8 weights, without their activation,
// and a unit-scale add sums them and applies the conv's ReLU. x * sigmoid(x) is one
// "silu" table (no sigmoid table, no multiply). Without the option: one table, one conv.
// CHECK: quant_wide_activations = [{node = {{.*}}, op = "graph.hard_swish"
// CHECK: %h = qgraph.lut %x_q {{.*}}function = "hard_swish"}
// CHECK-NEXT: %[[LO:.*]] = qgraph.lut %x_q {{.*}}function = "hard_swish_lo"}
// CHECK: %[[HI_C:.*]] = qgraph.conv %h, %w {{.*}}act = "none"
// CHECK: %[[LO_C:.*]] = qgraph.conv %[[LO]], %w_1 {{.*}}act = "none"
// CHECK-NEXT: %c = qgraph.add %[[HI_C]], %[[LO_C]] {a_scale = 1.0 : f32, b_scale = 1.0 : f32, c_scale = 1.0 : f32, act = "relu"}
// CHECK-NOT: qgraph.mul
// CHECK: %m = qgraph.lut %c {{.*}}function = "silu"}
// CHECK: %g = qgraph.lut %f {{.*}}function = "hard_swish"}
// CHECK-NEXT: %[[GLO:.*]] = qgraph.lut %f {{.*}}function = "hard_swish_lo"}
// CHECK: %[[HI_M:.*]] = qgraph.matmul %g, %w2 {{.*}}act = "none"}
// CHECK-NEXT: %[[LO_M:.*]] = qgraph.matmul %[[GLO]], %w2 {{.*}}act = "none"}
// CHECK-NEXT: %y = qgraph.add %[[HI_M]], %[[LO_M]]

// OFF-NOT: quant_wide_activations
// OFF-NOT: _lo"
// OFF: %c = qgraph.conv %h, %w {{.*}}act = "relu"
// OFF-NOT: _lo"
// OFF: %y = qgraph.matmul %g, %w2
builtin.module attributes {onnx_opset = 17} {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {
    %w = graph.constant {value = dense<0.25> : tensor<2x2x1x1xf32>} : () -> tensor<2x2x1x1xf32>
    %w2 = graph.constant {value = dense<[[0.5, -0.25, 0.125], [0.3, 0.2, -0.1]]> : tensor<2x3xf32>} : () -> tensor<2x3xf32>
    %h = graph.hard_swish %x : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %c = graph.conv %h, %w {fused_act = "relu", kernel_shape = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
    %s = graph.sigmoid %c : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %m = graph.mul %c, %s : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %p = graph.global_average_pool %m : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
    %f = graph.flatten %p {axis = 1} : (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
    %g = graph.hard_swish %f : (tensor<1x2xf32>) -> tensor<1x2xf32>
    %y = graph.gemm %g, %w2 : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x3xf32>
    func.return %y : tensor<1x3xf32>
  }
}
