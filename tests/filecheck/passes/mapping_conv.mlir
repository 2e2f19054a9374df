// RUN: dlac-opt %s -p 'materialize,tile,reorder,map-spatial' | filecheck %s

// A 3x3 conv, 32 -> 40 channels, 10x10 output, heuristic mapping on the default Gemmini.
// CHECK: loop.for {{%.+}} = 0 to 1 step 1 attributes {dim = "N", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 10 step 10 attributes {dim = "Q", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 10 step 10 attributes {dim = "P", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 40 step 40 attributes {dim = "K", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 3 step 3 attributes {dim = "S", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 3 step 3 attributes {dim = "R", level = "dram"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 32 step 32 attributes {dim = "C", level = "dram"} {
// Inside a tile: LoopConv's och, krow, kcol, kch, b, orow, ocol; then the array.
// CHECK-NEXT: loop.for {{%.+}} = 0 to 40 step 16 attributes {dim = "K", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 3 step 1 attributes {dim = "S", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 3 step 1 attributes {dim = "R", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 32 step 16 attributes {dim = "C", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 1 step 1 attributes {dim = "N", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 10 step 1 attributes {dim = "Q", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 10 step 1 attributes {dim = "P", level = "tile"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 16 step 1 attributes {dim = "C", level = "array", spatial = "rows"} {
// CHECK-NEXT: loop.for {{%.+}} = 0 to 16 step 1 attributes {dim = "K", level = "array", spatial = "cols"} {
// CHECK-COUNT-7: loop.apply
// CHECK-NEXT: loop.mac %y, %x, %w,
builtin.module {
  func.func @conv(%x: memref<1x12x12x32xi8>, %w: memref<3x3x32x40xi8>, %y: memref<1x10x10x40xi32>) {
    "loop.kernel"(%y, %x, %w) ({
      loop.for %n = 0 to 1 step 1 attributes {dim = "N"} {
        loop.for %k = 0 to 40 step 1 attributes {dim = "K"} {
          loop.for %c = 0 to 32 step 1 attributes {dim = "C"} {
            loop.for %p = 0 to 10 step 1 attributes {dim = "P"} {
              loop.for %q = 0 to 10 step 1 attributes {dim = "Q"} {
                loop.for %r = 0 to 3 step 1 attributes {dim = "R"} {
                  loop.for %s = 0 to 3 step 1 attributes {dim = "S"} {
                    loop.mac %y, %x, %w, %n, %k, %c, %p, %q, %r, %s {out_map = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d3, d1)>, a_map = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4 + d6, d3 + d5, d2)>, b_map = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d6, d5, d2, d1)>} : memref<1x10x10x40xi32>, memref<1x12x12x32xi8>, memref<3x3x32x40xi8>, index, index, index, index, index, index, index
                  }
                }
              }
            }
          }
        }
      }
    }) {sym_name = "conv", kind = "conv", dims = {N = 1, K = 40, C = 32, P = 10, Q = 10, R = 3, S = 3}, layer = {kind = "conv", batch = 1, in_channels = 32, out_channels = 40, in_rows = 12, in_cols = 12, kernel_rows = 3, kernel_cols = 3, stride = 1, padding = 0, dilation = 1, groups = 1, has_bias = false}} : (memref<1x10x10x40xi32>, memref<1x12x12x32xi8>, memref<3x3x32x40xi8>) -> ()
    func.return
  }
}
