// RUN: dlac-opt %s -p fuse-lrn | filecheck %s

// torch's LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2): x / (k + alpha * avg over a
// 5-channel window of x^2)^beta, the window an AveragePool over a [N, 1, C, H, W] view.
builtin.module {
  func.func @main(%x: tensor<1x6x2x2xf32>) -> tensor<1x6x2x2xf32> {
    %s5 = graph.constant {value = dense<[1, 1, 6, 2, 2]> : tensor<5xi64>} : () -> tensor<5xi64>
    %s4 = graph.constant {value = dense<[1, 6, 2, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
    %pads = graph.constant {value = dense<[0, 0, 2, 0, 0, 0, 0, 2, 0, 0]> : tensor<10xi64>} : () -> tensor<10xi64>
    %alpha = graph.constant {value = dense<1.0e-4> : tensor<f32>} : () -> tensor<f32>
    %k = graph.constant {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
    %beta = graph.constant {value = dense<0.75> : tensor<f32>} : () -> tensor<f32>
    %sq = graph.mul %x, %x : (tensor<1x6x2x2xf32>, tensor<1x6x2x2xf32>) -> tensor<1x6x2x2xf32>
    %v = graph.reshape %sq, %s5 : (tensor<1x6x2x2xf32>, tensor<5xi64>) -> tensor<1x1x6x2x2xf32>
    %p = graph.pad %v, %pads {mode = "constant"} : (tensor<1x1x6x2x2xf32>, tensor<10xi64>) -> tensor<1x1x10x2x2xf32>
    %a = graph.average_pool %p {kernel_shape = [5, 1, 1], count_include_pad = 1} : (tensor<1x1x10x2x2xf32>) -> tensor<1x1x6x2x2xf32>
    %a4 = graph.reshape %a, %s4 : (tensor<1x1x6x2x2xf32>, tensor<4xi64>) -> tensor<1x6x2x2xf32>
    %m = graph.mul %a4, %alpha : (tensor<1x6x2x2xf32>, tensor<f32>) -> tensor<1x6x2x2xf32>
    %b = graph.add %m, %k : (tensor<1x6x2x2xf32>, tensor<f32>) -> tensor<1x6x2x2xf32>
    %d = graph.pow %b, %beta : (tensor<1x6x2x2xf32>, tensor<f32>) -> tensor<1x6x2x2xf32>
    %y = graph.div %x, %d : (tensor<1x6x2x2xf32>, tensor<1x6x2x2xf32>) -> tensor<1x6x2x2xf32>
    func.return %y : tensor<1x6x2x2xf32>
  }
}
// CHECK: %[[Y:.*]] = graph.lrn %x {size = 5, alpha = {{.*}}, beta = 0.75{{.*}}, bias = 2.0{{.*}}}
// CHECK-NOT: graph.average_pool
// CHECK: func.return %[[Y]]
