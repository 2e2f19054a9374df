// RUN: dlac-opt %s -p equalize | filecheck %s

// conv1 (channel ranges [1, 16]) reaches two depthwise convs through a ReLU and a max
// pool (both commute with s > 0). Their input-channel ranges are [4, 1] and [2, 1], so
// r2 = [4, 1] (the larger per channel), s = sqrt(r1 / r2) = [0.5, 4]: conv1's channel k
// is divided by s_k, both consumers' channel k multiplied by it.
builtin.module {
  func.func @main(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
    %w1 = graph.constant {value = dense<[[[[1.0]]], [[[16.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
    %b1 = graph.constant {value = dense<[2.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %w2 = graph.constant {value = dense<[[[[4.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
    %w3 = graph.constant {value = dense<[[[[2.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
    %a = graph.conv %x, %w1, %b1 : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
    %r = graph.relu %a : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %p = graph.max_pool %r {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
    %y = graph.conv %p, %w2 {group = 2} : (tensor<1x2x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    %z = graph.conv %p, %w3 {group = 2} : (tensor<1x2x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
    func.return %y, %z : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
  }
}
// CHECK: %[[W1:.*]] = graph.constant {value = dense<{{\[\[\[\[}}2.0{{\]\]\]}}, {{\[\[\[}}4.0{{\]\]\]\]}}>
// CHECK: %[[B1:.*]] = graph.constant {value = dense<[4.0, 0.5]>
// CHECK: %[[A:.*]] = graph.conv %x, %[[W1]], %[[B1]]
// CHECK: %[[R:.*]] = graph.relu %[[A]]
// CHECK: %[[P:.*]] = graph.max_pool %[[R]]
// CHECK: %[[W2:.*]] = graph.constant {value = dense<{{\[\[\[\[}}2.0{{\]\]\]}}, {{\[\[\[}}4.0{{\]\]\]\]}}>
// CHECK: graph.conv %[[P]], %[[W2]] {group = 2}
// CHECK: %[[W3:.*]] = graph.constant {value = dense<{{\[\[\[\[}}1.0{{\]\]\]}}, {{\[\[\[}}4.0{{\]\]\]\]}}>
// CHECK: graph.conv %[[P]], %[[W3]] {group = 2}
