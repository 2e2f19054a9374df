// RUN: dlac-opt %s -p 'avg-pool-to-gemmini' | filecheck %s

// One ones-row matmul per image, scaled by multiplier / pixels (1.5 / 4 = 0.375).
// CHECK-LABEL: func.func @gap
// CHECK-NEXT: %ones = loop.constant {value = dense<{{.*}}> : tensor<1x4xi8>}
// CHECK-NEXT: gemmini.tiled_matmul %ones, %x, %y {roles = "ABC", act = "none", dims = [1, 32, 4], strides = [4, 32, 32, 32], scale = 0.375 : f32, repeating_bias = false}
// CHECK-NEXT: gemmini.tiled_matmul %ones, %x, %y {{{.*}}offsets = {B = 128, C = 32}}
// CHECK-NOT: loop.host
// CHECK: func.return

// A windowed (not global) average pool stays on the host.
// CHECK-LABEL: func.func @windowed
// CHECK: loop.host %x2, %y2 {kind = "qgraph.avg_pool"

builtin.module {
  func.func @gap(%x: memref<2x2x2x32xi8, "dram">, %y: memref<2x1x1x32xi8, "dram">) {
    loop.host %x, %y {kind = "qgraph.avg_pool", kernel = [2, 2], strides = [1, 1], pads = [0, 0, 0, 0], ceil_mode = 0, count_include_pad = 1, multiplier = 1.5 : f32, layouts = ["nhwc", "nhwc"]} : memref<2x2x2x32xi8, "dram">, memref<2x1x1x32xi8, "dram">
    func.return
  }
  func.func @windowed(%x2: memref<1x4x4x32xi8, "dram">, %y2: memref<1x2x2x32xi8, "dram">) {
    loop.host %x2, %y2 {kind = "qgraph.avg_pool", kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], ceil_mode = 0, count_include_pad = 1, multiplier = 1.5 : f32, layouts = ["nhwc", "nhwc"]} : memref<1x4x4x32xi8, "dram">, memref<1x2x2x32xi8, "dram">
    func.return
  }
}
