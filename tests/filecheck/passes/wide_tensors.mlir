// RUN: dlac-opt %s -p quantize | filecheck %s --check-prefix=QUANT
// RUN: dlac-opt %s -p quantize,lower-to-loops | filecheck %s --check-prefix=LOOPS
// RUN: dlac-opt %s -p quantize,lower-to-loops,lower-to-gemmini | filecheck %s --check-prefix=GEMMINI

// A residual stream (passes/wide_tensors.py): %a and %r are produced by adds and consumed
// only by LayerNorm, another such add or the function result, so they are int16 with each
// operand scaled straight to the output scale (c_scale 1); %e feeds a matmul, so it stays
// an int8 Gemmini resadd. The int16 adds lower to host nests, not resadd kernels. %f is
// read only by the int16 add %r, so its matmul keeps the int32 accumulator (scale s_e s_w,
// multiplier 1; tiled_matmul's full_C) and %r scales it straight to int16; %m feeds the
// int8 add %e, so it is requantized to int8 on Gemmini as usual.
// QUANT: %a = qgraph.add %x_q, %pos {{{.*}}c_scale = 1.0 : f32{{.*}}} : (tensor<1x4x8xi8>, tensor<1x4x8xi8>) -> tensor<1x4x8xi16>
// QUANT: qgraph.layer_norm %a, {{.*}} : (tensor<1x4x8xi16>, tensor<8xi16>, tensor<8xi64>) -> tensor<1x4x8xi8>
// QUANT: %m = qgraph.matmul %n, %w {{.*}} -> tensor<1x4x8xi8>
// QUANT: %e = qgraph.add %m, %m {{.*}} -> tensor<1x4x8xi8>
// QUANT: %f = qgraph.matmul %e, %{{.*}} {multiplier = 1.0 : f32, act = "none"} : (tensor<1x4x8xi8>, tensor<8x8xi8>) -> tensor<1x4x8xi32>
// QUANT: %r = qgraph.add %a, %f {{.*}} : (tensor<1x4x8xi16>, tensor<1x4x8xi32>) -> tensor<1x4x8xi16>
// QUANT: qgraph.dequantize %r {{.*}} : (tensor<1x4x8xi16>) -> tensor<1x4x8xf32>

// LOOPS: %a = loop.alloc {{.*}} memref<1x4x8xi16, "dram">
// LOOPS: loop.resadd {{.*}} : (i8, i8) -> i16
// LOOPS-NEXT: loop.store
// LOOPS: loop.host %a, {{.*}}kind = "qgraph.layer_norm"
// LOOPS: sym_name = "resadd_0", kind = "resadd"
// LOOPS: loop.resadd {{.*}} : (i16, i32) -> i16
// LOOPS-NEXT: loop.store
// LOOPS: loop.dequantize {{.*}} : (i16) -> f32
// LOOPS-NOT: kind = "resadd"
// GEMMINI: gemmini.tiled_matmul %n, %w, %m {{.*}}repeating_bias = false} : {{.*}}memref<1x4x8xi8, "dram">
// GEMMINI: gemmini.tiled_matmul %e, %{{.*}}, %f {{.*}}scale = 1.0 : f32, repeating_bias = false, full_c = true} : {{.*}}memref<1x4x8xi32, "dram">
builtin.module attributes {onnx_opset = 17} {
  func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
    %pos = graph.constant {value = dense<0.02> : tensor<1x4x8xf32>} : () -> tensor<1x4x8xf32>
    %g = graph.constant {value = dense<1.5> : tensor<8xf32>} : () -> tensor<8xf32>
    %b = graph.constant {value = dense<0.1> : tensor<8xf32>} : () -> tensor<8xf32>
    %w = graph.constant {value = dense<0.25> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
    %a = graph.add %x, %pos : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
    %n = graph.layer_norm %a, %g, %b {axis = -1, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
    %m = graph.matmul %n, %w : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
    %e = graph.add %m, %m : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
    %f = graph.matmul %e, %w : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
    %r = graph.add %a, %f : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
    func.return %r : tensor<1x4x8xf32>
  }
}
