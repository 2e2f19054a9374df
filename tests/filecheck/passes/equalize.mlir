// RUN: dlac-opt %s -p equalize | filecheck %s

// conv1's channel ranges are [1, 16], the depthwise conv's after the ReLU [4, 1]:
// s = sqrt(r1 / r2) = [0.5, 4] divides conv1's channel k (weights and bias) and multiplies
// the depthwise channel k, so both get the ranges sqrt(r1 * r2) = [2, 4].
builtin.module {
  func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w1 = graph.constant {value = dense<[[[[1.0]]], [[[16.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
    %b1 = graph.constant {value = dense<[2.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %w2 = graph.constant {value = dense<[[[[4.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
    %a = graph.conv %x, %w1, %b1 {fused_act = "relu"} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %y = graph.conv %a, %w2 {group = 2} : (tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
    func.return %y : tensor<1x2x4x4xf32>
  }
}
// CHECK: %[[W1:.*]] = graph.constant {value = dense<{{\[\[\[\[}}2.0{{\]\]\]}}, {{\[\[\[}}4.0{{\]\]\]\]}}>
// CHECK: %[[B1:.*]] = graph.constant {value = dense<[4.0, 0.5]>
// CHECK: %[[A:.*]] = graph.conv %x, %[[W1]], %[[B1]] {fused_act = "relu"}
// CHECK: %[[W2:.*]] = graph.constant {value = dense<{{\[\[\[\[}}2.0{{\]\]\]}}, {{\[\[\[}}4.0{{\]\]\]\]}}>
// CHECK: graph.conv %[[A]], %[[W2]] {group = 2}
