// RUN: dlac-opt %s -p unroll-rnn | filecheck %s
// RUN: dlac-opt %s -p unroll-rnn,quantize | filecheck %s --check-prefix=QUANT

// A forward LSTM over 2 steps (hidden 1, zero initial state): one input Gemm for all
// steps; step 0 has no recurrent term, step 1 adds the Gemm of h0; gates i, o, f, c are
// column slices; c = sigmoid(f) * c + sigmoid(i) * tanh(g); h = sigmoid(o) * tanh(c).
// CHECK-NOT: graph.lstm
// CHECK: %[[P:.*]] = graph.gemm %{{.*}}, %{{.*}}, %{{.*}} {transB = 1} : (tensor<2x2xf32>, tensor<4x2xf32>, tensor<4xf32>) -> tensor<2x4xf32>
// CHECK: %[[X0:.*]] = graph.slice %[[P]]
// CHECK: graph.sigmoid
// CHECK: graph.tanh
// CHECK: %[[C0:.*]] = graph.mul
// CHECK: graph.tanh %[[C0]]
// CHECK: %[[H0:.*]] = graph.mul
// CHECK: %[[X1:.*]] = graph.slice %[[P]]
// CHECK: %[[RH:.*]] = graph.gemm %[[H0]], %{{.*}} {transB = 1} : (tensor<1x1xf32>, tensor<4x1xf32>) -> tensor<1x4xf32>
// CHECK: graph.add %[[X1]], %[[RH]]
// CHECK: graph.mul %{{.*}}, %[[C0]]
// CHECK: %[[H1:.*]] = graph.mul
// CHECK: %[[S:.*]] = graph.concat %[[H0]], %[[H1]] {axis = 0}
// CHECK: %y = graph.reshape %[[S]], %{{.*}} -> tensor<2x1x1x1xf32>
// CHECK: func.return %y

// QUANT-COUNT-2: qgraph.matmul
// QUANT: qgraph.lut %{{.*}} {table = {{.*}}, function = "sigmoid"}
// QUANT: qgraph.mul
builtin.module attributes {onnx_opset = 14} {
  func.func @main(%x: tensor<2x1x2xf32>) -> tensor<2x1x1x1xf32> {
    %W = graph.constant {value = dense<[[[0.35, 0.82], [0.33, -1.3], [0.91, 0.45], [-0.54, 0.58]]]> : tensor<1x4x2xf32>} : () -> tensor<1x4x2xf32>
    %R = graph.constant {value = dense<[[[0.36], [0.29], [0.03], [0.55]]]> : tensor<1x4x1xf32>} : () -> tensor<1x4x1xf32>
    %B = graph.constant {value = dense<[[-0.74, -0.16, -0.48, 0.6, 0.04, -0.29, -0.78, -0.26]]> : tensor<1x8xf32>} : () -> tensor<1x8xf32>
    %y = graph.lstm %x, %W, %R, %B {hidden_size = 1} : (tensor<2x1x2xf32>, tensor<1x4x2xf32>, tensor<1x4x1xf32>, tensor<1x8xf32>) -> tensor<2x1x1x1xf32>
    func.return %y : tensor<2x1x1x1xf32>
  }
}
