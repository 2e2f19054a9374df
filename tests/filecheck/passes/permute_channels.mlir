// RUN: dlac-opt %s -p 'permute-channels{max_splits=4}' | filecheck %s

// conv1's output channels have weight ranges [8, 1, 0.5]: sorted ascending (order
// [2, 1, 0]) so that --weight-splits runs hold alike channels. Its rows and bias take the
// order, the ReLU carries it, conv2's input channels take it back: same function.
builtin.module {
  func.func @main(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
    %w1 = graph.constant {value = dense<[[[[8.0]]], [[[1.0]]], [[[0.5]]]]> : tensor<3x1x1x1xf32>} : () -> tensor<3x1x1x1xf32>
    %b1 = graph.constant {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : () -> tensor<3xf32>
    %w2 = graph.constant {value = dense<[[[[1.0]], [[2.0]], [[4.0]]]]> : tensor<1x3x1x1xf32>} : () -> tensor<1x3x1x1xf32>
    %a = graph.conv %x, %w1, %b1 : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
    %r = graph.relu %a : (tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
    %y = graph.conv %r, %w2 : (tensor<1x3x4x4xf32>, tensor<1x3x1x1xf32>) -> tensor<1x1x4x4xf32>
    func.return %y : tensor<1x1x4x4xf32>
  }
  func.func @returned(%x: tensor<1x1x4x4xf32>) -> tensor<1x3x4x4xf32> {
    %w1 = graph.constant {value = dense<[[[[8.0]]], [[[1.0]]], [[[0.5]]]]> : tensor<3x1x1x1xf32>} : () -> tensor<3x1x1x1xf32>
    %a = graph.conv %x, %w1 : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>) -> tensor<1x3x4x4xf32>
    func.return %a : tensor<1x3x4x4xf32>
  }
}
// CHECK-LABEL: func.func @main
// CHECK: %[[W1:.*]] = graph.constant {value = dense<{{\[\[\[\[}}0.5{{\]\]\]}}, {{\[\[\[}}1.0{{\]\]\]}}, {{\[\[\[}}8.0{{\]\]\]\]}}>
// CHECK: %[[B1:.*]] = graph.constant {value = dense<[3.0, 2.0, 1.0]>
// CHECK: %[[A:.*]] = graph.conv %x, %[[W1]], %[[B1]]
// CHECK: %[[R:.*]] = graph.relu %[[A]]
// CHECK: %[[W2:.*]] = graph.constant {value = dense<{{\[\[\[\[}}4.0{{\]\]}}, {{\[\[}}2.0{{\]\]}}, {{\[\[}}1.0{{\]\]\]\]}}>
// CHECK: graph.conv %[[R]], %[[W2]]

// A conv whose output is returned keeps its channel order.
// CHECK-LABEL: func.func @returned
// CHECK: graph.constant {value = dense<{{\[\[\[\[}}8.0{{\]\]\]}}, {{\[\[\[}}1.0{{\]\]\]}}, {{\[\[\[}}0.5{{\]\]\]\]}}>
