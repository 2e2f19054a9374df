// RUN: dlac-opt %s -p fold-batchnorm,fuse-epilogue | filecheck %s --check-prefix=FOLD
// RUN: dlac-opt %s -p fold-batchnorm,fuse-epilogue,quantize | filecheck %s --check-prefix=QUANT
// RUN: dlac-opt %s -p fold-batchnorm,fuse-epilogue,quantize,lower-to-loops | filecheck %s --check-prefix=LOOPS

// FOLD-LABEL: func.func @main
// FOLD-NOT: graph.batch_norm
// FOLD-NOT: graph.clip
// FOLD: graph.conv %x, %{{.*}}, %{{.*}} {pads = [0, 0, 0, 0], fused_act = "relu6"}
// FOLD: func.return

// QUANT: qgraph.quantize %x {scale = {{.*}} : f32, multiplier = {{.*}} : f32}
// QUANT: qgraph.conv %x_q, %{{.*}}, %{{.*}} {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], group = 1, multiplier = {{.*}} : f32, act = "relu", in_scale = {{.*}}, w_scale = {{.*}}, out_scale = 0.047244094 : f32}
// QUANT: qgraph.dequantize
// QUANT-SAME: (tensor<1x2x3x3xi8>) -> tensor<1x2x3x3xf32>

// LOOPS: func.func @main(%x: memref<1x2x3x3xf32>, %y: memref<1x2x3x3xf32>)
// LOOPS: loop.quantize
// LOOPS: "loop.kernel"
// LOOPS-COUNT-7: loop.for
// LOOPS: loop.mac
// LOOPS: kind = "conv", dims = {N = 1, K = 2, C = 2, P = 3, Q = 3, R = 1, S = 1}
// LOOPS: loop.dequantize
// LOOPS: func.return
builtin.module attributes {onnx_opset = 17} {
  func.func @main(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
    %w = graph.constant {value = dense<[[[[0.5]], [[-0.25]]], [[[1.0]], [[0.75]]]]> : tensor<2x2x1x1xf32>} : () -> tensor<2x2x1x1xf32>
    %g = graph.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %b = graph.constant {value = dense<[0.1, -0.1]> : tensor<2xf32>} : () -> tensor<2xf32>
    %m = graph.constant {value = dense<[0.0, 0.5]> : tensor<2xf32>} : () -> tensor<2xf32>
    %v = graph.constant {value = dense<[1.0, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
    %lo = graph.constant {value = dense<0.0> : tensor<f32>} : () -> tensor<f32>
    %hi = graph.constant {value = dense<6.0> : tensor<f32>} : () -> tensor<f32>
    %c = graph.conv %x, %w {pads = [0, 0, 0, 0]} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
    %n = graph.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-05 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
    %y = graph.clip %n, %lo, %hi : (tensor<1x2x3x3xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x3x3xf32>
    func.return %y : tensor<1x2x3x3xf32>
  }
}
