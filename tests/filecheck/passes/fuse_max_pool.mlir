// RUN: dlac-opt %s -p 'fuse-max-pool' | filecheck %s

// CHECK-LABEL: func.func @stem
// CHECK-NEXT: %p = loop.alloc
// CHECK-NEXT: gemmini.tiled_conv %x, %w, %b, %p {{{.*}}act = "relu"{{.*}}tiles = [1, 10, 10, 16, 7, 7, 3], pool = {size = 3, stride = 2, padding = 1}} : {{.*}}memref<1x56x56x64xi8, "dram">
// CHECK-NOT: qgraph.max_pool
// CHECK-NEXT: func.return

// A pool with padding after a conv without ReLU stays on the host (Gemmini pads with 0).
// CHECK-LABEL: func.func @no_relu
// CHECK: gemmini.tiled_conv %x2, %w2, %r2
// CHECK-NOT: pool =
// CHECK: loop.host %r2, %p2 {kind = "qgraph.max_pool"

// A conv output someone else also reads stays unpooled.
// CHECK-LABEL: func.func @shared
// CHECK: gemmini.tiled_conv %x3, %w3, %r3
// CHECK-NOT: pool =
// CHECK: loop.host %r3, %p3 {kind = "qgraph.max_pool"

// A weight-split conv (two runs of output channels, each a call writing its slice at
// O offset 0 and 8) pools each slice on the store into the pooled buffer.
// CHECK-LABEL: func.func @split
// CHECK-NEXT: %p4 = loop.alloc
// CHECK-NEXT: gemmini.tiled_conv %x4, %w4, %p4 {{{.*}}out_channels = 8{{.*}}pool = {size = 2, stride = 2, padding = 0}}
// CHECK-NEXT: gemmini.tiled_conv %x4, %w4, %p4 {{{.*}}offsets = {W = 8, O = 8}{{.*}}pool = {size = 2, stride = 2, padding = 0}}
// CHECK-NEXT: func.return

// Runs that do not cover every channel of the buffer stay unpooled.
// CHECK-LABEL: func.func @partial
// CHECK: gemmini.tiled_conv %x5, %w5, %r5
// CHECK-NOT: pool =
// CHECK: loop.host %r5, %p5 {kind = "qgraph.max_pool"

builtin.module {
  func.func @stem(%x: memref<1x224x224x3xi8, "dram">, %w: memref<7x7x3x64xi8, "dram">, %b: memref<64xi32, "dram">, %out: memref<1x56x56x64xi8, "dram">) {
    %r = loop.alloc {label = "r"} : () -> memref<1x112x112x64xi8, "dram">
    gemmini.tiled_conv %x, %w, %b, %r {roles = "IWBO", act = "relu", geometry = {batch = 1, in_rows = 224, in_cols = 224, out_rows = 112, out_cols = 112, stride = 2, padding = 3, kernel_dim = 7, in_channels = 3, out_channels = 64, dilation = 1, in_stride = 3, weight_stride = 64, out_stride = 64}, scale = 0.002 : f32, tiles = [1, 22, 23, 16, 7, 7, 3], perm = "NQPKSRC"} : memref<1x224x224x3xi8, "dram">, memref<7x7x3x64xi8, "dram">, memref<64xi32, "dram">, memref<1x112x112x64xi8, "dram">
    %p = loop.alloc {label = "p"} : () -> memref<1x56x56x64xi8, "dram">
    loop.host %r, %p {kind = "qgraph.max_pool", kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1], ceil_mode = 0, layouts = ["nhwc", "nhwc"]} : memref<1x112x112x64xi8, "dram">, memref<1x56x56x64xi8, "dram">
    func.return
  }
  func.func @no_relu(%x2: memref<1x8x8x16xi8, "dram">, %w2: memref<3x3x16x16xi8, "dram">, %out2: memref<1x4x4x16xi8, "dram">) {
    %r2 = loop.alloc {label = "r"} : () -> memref<1x8x8x16xi8, "dram">
    gemmini.tiled_conv %x2, %w2, %r2 {roles = "IWO", act = "none", geometry = {batch = 1, in_rows = 8, in_cols = 8, out_rows = 8, out_cols = 8, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 16, dilation = 1, in_stride = 16, weight_stride = 16, out_stride = 16}, scale = 0.002 : f32} : memref<1x8x8x16xi8, "dram">, memref<3x3x16x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    %p2 = loop.alloc {label = "p"} : () -> memref<1x4x4x16xi8, "dram">
    loop.host %r2, %p2 {kind = "qgraph.max_pool", kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1], ceil_mode = 0, layouts = ["nhwc", "nhwc"]} : memref<1x8x8x16xi8, "dram">, memref<1x4x4x16xi8, "dram">
    func.return
  }
  func.func @shared(%x3: memref<1x8x8x16xi8, "dram">, %w3: memref<3x3x16x16xi8, "dram">, %out3: memref<1x4x4x16xi8, "dram">, %copy3: memref<1x8x8x16xi8, "dram">) {
    %r3 = loop.alloc {label = "r"} : () -> memref<1x8x8x16xi8, "dram">
    gemmini.tiled_conv %x3, %w3, %r3 {roles = "IWO", act = "relu", geometry = {batch = 1, in_rows = 8, in_cols = 8, out_rows = 8, out_cols = 8, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 16, dilation = 1, in_stride = 16, weight_stride = 16, out_stride = 16}, scale = 0.002 : f32} : memref<1x8x8x16xi8, "dram">, memref<3x3x16x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    %p3 = loop.alloc {label = "p"} : () -> memref<1x4x4x16xi8, "dram">
    loop.host %r3, %p3 {kind = "qgraph.max_pool", kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1], ceil_mode = 0, layouts = ["nhwc", "nhwc"]} : memref<1x8x8x16xi8, "dram">, memref<1x4x4x16xi8, "dram">
    loop.gather %r3, %copy3 {table = dense<0> : tensor<1024xi32>} : memref<1x8x8x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    func.return
  }
  func.func @split(%x4: memref<1x8x8x16xi8, "dram">, %w4: memref<3x3x16x16xi8, "dram">, %out4: memref<1x4x4x16xi8, "dram">) {
    %r4 = loop.alloc {label = "r"} : () -> memref<1x8x8x16xi8, "dram">
    gemmini.tiled_conv %x4, %w4, %r4 {roles = "IWO", act = "relu", geometry = {batch = 1, in_rows = 8, in_cols = 8, out_rows = 8, out_cols = 8, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 8, dilation = 1, in_stride = 16, weight_stride = 16, out_stride = 16}, scale = 0.002 : f32} : memref<1x8x8x16xi8, "dram">, memref<3x3x16x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    gemmini.tiled_conv %x4, %w4, %r4 {roles = "IWO", offsets = {W = 8, O = 8}, act = "relu", geometry = {batch = 1, in_rows = 8, in_cols = 8, out_rows = 8, out_cols = 8, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 8, dilation = 1, in_stride = 16, weight_stride = 16, out_stride = 16}, scale = 0.003 : f32} : memref<1x8x8x16xi8, "dram">, memref<3x3x16x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    %p4 = loop.alloc {label = "p"} : () -> memref<1x4x4x16xi8, "dram">
    loop.host %r4, %p4 {kind = "qgraph.max_pool", kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1], ceil_mode = 0, layouts = ["nhwc", "nhwc"]} : memref<1x8x8x16xi8, "dram">, memref<1x4x4x16xi8, "dram">
    func.return
  }
  func.func @partial(%x5: memref<1x8x8x16xi8, "dram">, %w5: memref<3x3x16x16xi8, "dram">, %out5: memref<1x4x4x16xi8, "dram">) {
    %r5 = loop.alloc {label = "r"} : () -> memref<1x8x8x16xi8, "dram">
    gemmini.tiled_conv %x5, %w5, %r5 {roles = "IWO", offsets = {W = 8, O = 8}, act = "relu", geometry = {batch = 1, in_rows = 8, in_cols = 8, out_rows = 8, out_cols = 8, stride = 1, padding = 1, kernel_dim = 3, in_channels = 16, out_channels = 8, dilation = 1, in_stride = 16, weight_stride = 16, out_stride = 16}, scale = 0.003 : f32} : memref<1x8x8x16xi8, "dram">, memref<3x3x16x16xi8, "dram">, memref<1x8x8x16xi8, "dram">
    %p5 = loop.alloc {label = "p"} : () -> memref<1x4x4x16xi8, "dram">
    loop.host %r5, %p5 {kind = "qgraph.max_pool", kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1], ceil_mode = 0, layouts = ["nhwc", "nhwc"]} : memref<1x8x8x16xi8, "dram">, memref<1x4x4x16xi8, "dram">
    func.return
  }
}
