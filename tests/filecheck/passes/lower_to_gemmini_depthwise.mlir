// RUN: dlac-opt %s -p 'lower-to-gemmini' | filecheck %s

// A depthwise conv runs as block-diagonal dense convs over channel groups, all in one
// block-diagonal tiled_conv (one library call). Without a mapping, the groups are DIM = 16
// channels wide: 40 channels are 16 + 16 + 8, group g0 reading and writing channels g0..
// (strides stay 40).
// CHECK-LABEL: func.func @dw_auto
// CHECK-NOT: tensor<3x3x1x40xi8>
// CHECK: [[W:%.+]] = loop.constant {value = dense<"0x{{[0-9A-F]+}}"> : tensor<3x3x16x40xi8>} : () -> memref<3x3x16x40xi8, "dram">
// CHECK-NEXT: gemmini.tiled_conv %x, [[W]], %b, %y {roles = "IWBO", act = "relu", geometry = {batch = 1, in_rows = 9, in_cols = 9, out_rows = 9, out_cols = 9, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 16, channels = 40, dilation = 1, in_stride = 40, weight_stride = 40, out_stride = 40}, scale = 0.01 : f32, block_diagonal = true}
// CHECK-NEXT: func.return

// With a mapping, the groups are its channel tile wide (here G = 2, so 2 + 2 + 1) and
// take its other tiles; the depthwise loop order GNQPSR becomes KNQPSRC. Each group's
// columns hold its weights in the dense layout tiled_conv reads for its own width: the
// narrower last group (column 4) uses the first row only.
// CHECK-LABEL: func.func @dw_mapped
// CHECK-NOT: tensor<1x1x1x5xi8>
// CHECK: [[V:%.+]] = loop.constant {value = dense<{{\[\[\[\[}}1, 0, 3, 0, 5], [0, 2, 0, 4, 0]]]]> : tensor<1x1x2x5xi8>}
// CHECK-NEXT: gemmini.tiled_conv %in, [[V]], %out {{{.*}} in_channels = 2, out_channels = 2, channels = 5, {{.*}} block_diagonal = true, tiles = [1, 3, 4, 2, 1, 1, 2], perm = "KNQPSRC"}
// CHECK-NEXT: func.return

builtin.module {
  func.func @dw_auto(%x: memref<1x9x9x40xi8, "dram">, %b: memref<40xi32, "dram">, %y: memref<1x9x9x40xi8, "dram">) {
    %w = loop.constant {value = dense<3> : tensor<3x3x1x40xi8>} : () -> memref<3x3x1x40xi8, "dram">
    "loop.kernel"(%x, %w, %b, %y) ({
      gemmini.fence
    }) {sym_name = "dw", kind = "conv_dw", dims = {N = 1, K = 40, C = 1, P = 9, Q = 9, R = 3, S = 3}, strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], multiplier = 0.01 : f32, act = "relu", roles = "IWBO"} : (memref<1x9x9x40xi8, "dram">, memref<3x3x1x40xi8, "dram">, memref<40xi32, "dram">, memref<1x9x9x40xi8, "dram">) -> ()
    func.return
  }
  func.func @dw_mapped(%in: memref<1x3x4x5xi8, "dram">, %out: memref<1x3x4x5xi8, "dram">) {
    %v = loop.constant {value = dense<[[[[1, 2, 3, 4, 5]]]]> : tensor<1x1x1x5xi8>} : () -> memref<1x1x1x5xi8, "dram">
    "loop.kernel"(%in, %v, %out) ({
      gemmini.fence
    }) {sym_name = "dw_small", kind = "conv_dw", dims = {N = 1, K = 5, C = 1, P = 4, Q = 3, R = 1, S = 1}, strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], multiplier = 0.5 : f32, act = "none", roles = "IWO", mapping = {dims = "NGPQRS", tiles = [1, 2, 4, 3, 1, 1], perm = "GNQPSR", dataflow = "WS", double_buffer = true}} : (memref<1x3x4x5xi8, "dram">, memref<1x1x1x5xi8, "dram">, memref<1x3x4x5xi8, "dram">) -> ()
    func.return
  }
}
