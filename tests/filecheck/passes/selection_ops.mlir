// RUN: dlac-opt %s -p quantize | filecheck %s
// RUN: dlac-opt %s -p quantize,lower-to-loops | filecheck %s --check-prefix=LOOPS

// Linear Resize (align_corners, x2 on H and W) keeps the input scale: integer weights
// with 8 fractional bits per resized axis, one ACC_SCALE by 2^-16. ArgMax/TopK run on the
// int8 values (indices i64); Where with a computed condition compares the real values,
// requantises both branches to the output scale and selects.
// CHECK: %r = qgraph.resize_linear %x_q {coefficients = dense<{{.*}}> : tensor<11x4xi32>, multiplier = 1.5258789e-05 : f32} : (tensor<1x2x2x2xi8>) -> tensor<1x2x4x4xi8>
// CHECK: %am = qgraph.arg_max %r {axis = 1, keepdims = 0, largest = 1, select_last_index = 0} : (tensor<1x2x4x4xi8>) -> tensor<1x4x4xi64>
// CHECK: %tv, %ti = qgraph.top_k %r {axis = 3, k = 2, largest = 1} : (tensor<1x2x4x4xi8>) -> (tensor<1x2x4x2xi8>, tensor<1x2x4x2xi64>)
// CHECK: %g = qgraph.compare %tv, %t {predicate = "greater", a_scale = {{.*}}, b_scale = {{.*}}} : (tensor<1x2x4x2xi8>, tensor<i8>) -> tensor<1x2x4x2xi1>
// CHECK: qgraph.requant %tv
// CHECK: qgraph.requant %t
// CHECK: %y = qgraph.select %g, %{{.*}}, %{{.*}} : (tensor<1x2x4x2xi1>, tensor<1x2x4x2xi8>, tensor<i8>) -> tensor<1x2x4x2xi8>

// LOOPS: loop.host %x_q, %r {kind = "qgraph.resize_linear"
// LOOPS-SAME: memref<1x2x2x2xi8, "dram">, memref<1x4x4x2xi8, "dram">
// LOOPS: loop.host %{{.*}}, %am {kind = "qgraph.arg_max"
// LOOPS-NOT: kind = "layout"
// LOOPS: loop.host %{{.*}}, %tv, %ti {kind = "qgraph.top_k"
// LOOPS: loop.compare %{{.*}}, %{{.*}} {predicate = "greater"{{.*}}} : (i8, i8) -> i1
// LOOPS: loop.select %{{.*}}, %{{.*}}, %{{.*}} : (i1, i8, i8) -> i8
builtin.module attributes {onnx_opset = 17} {
  func.func @main(%x: tensor<1x2x2x2xf32>) -> (tensor<1x4x4xi64>, tensor<1x2x4x2xi64>, tensor<1x2x4x2xf32>) {
    %roi = graph.constant {value = dense<[]> : tensor<0xf32>} : () -> tensor<0xf32>
    %sc = graph.constant {value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>} : () -> tensor<4xf32>
    %k = graph.constant {value = dense<[2]> : tensor<1xi64>} : () -> tensor<1xi64>
    %t = graph.constant {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
    %r = graph.resize %x, %roi, %sc {coordinate_transformation_mode = "align_corners", mode = "linear"} : (tensor<1x2x2x2xf32>, tensor<0xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
    %am = graph.arg_max %r {axis = 1, keepdims = 0} : (tensor<1x2x4x4xf32>) -> tensor<1x4x4xi64>
    %tv, %ti = graph.top_k %r, %k {axis = -1} : (tensor<1x2x4x4xf32>, tensor<1xi64>) -> (tensor<1x2x4x2xf32>, tensor<1x2x4x2xi64>)
    %g = graph.greater %tv, %t : (tensor<1x2x4x2xf32>, tensor<f32>) -> tensor<1x2x4x2xi1>
    %y = graph.where %g, %tv, %t : (tensor<1x2x4x2xi1>, tensor<1x2x4x2xf32>, tensor<f32>) -> tensor<1x2x4x2xf32>
    func.return %am, %ti, %y : tensor<1x4x4xi64>, tensor<1x2x4x2xi64>, tensor<1x2x4x2xf32>
  }
}
