// A small example module: one tensor-level op, a loop nest, and Gemmini instructions.
func.func @main(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %y = graph.relu %x : (tensor<1x64xf32>) -> tensor<1x64xf32>
  func.return %y : tensor<1x64xf32>
}
func.func @copy(%a: memref<64x64xi8, "dram">, %b: memref<64x64xi8, "dram">) {
  %unused = loop.alloc : () -> memref<16x16xi8, "spad">
  loop.for %i = 0 to 64 step 16 attributes {dim = "I", iter = "parallel"} {
    loop.for %j = 0 to 64 step 1 attributes {dim = "J", iter = "parallel"} {
      %v = loop.load %a, %i, %j {map = affine_map<(d0, d1) -> (d0, d1)>} : (memref<64x64xi8, "dram">, index, index) -> i8
      loop.store %v, %b, %i, %j {map = affine_map<(d0, d1) -> (d0, d1)>} : i8, memref<64x64xi8, "dram">, index, index
    }
  }
  gemmini.config_ld {stride = 64, id = 0, scale = 1.0 : f32}
  gemmini.mvin %a {id = 0, offset = 0, addr = 0, rows = 16, cols = 16} : memref<64x64xi8, "dram">
  gemmini.fence
  func.return
}
