// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json},allocate-buffers' | filecheck %s --check-prefix=ALLOC
// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json},allocate-buffers,lower-to-gemmini' | filecheck %s --check-prefix=LOWER
// RUN: dlac-opt %s -p 'lower-to-gemmini' | filecheck %s --check-prefix=AUTO

// ALLOC: alloc = {slots = 2, spad = {{\[\[}}0, 160], [8192, 160]], acc = {{\[\[}}0, 96], [512, 96]], banks = [0]}
// LOWER-LABEL: func.func @fc
// LOWER-NEXT: gemmini.tiled_matmul %a, %b, %c {roles = "ABC", act = "relu", dims = [100, 48, 64], strides = [64, 48, 48, 48], scale = 0.0625 : f32, repeating_bias = false, tiles = [2, 3, 2], perm = "JIK", dataflow = "WS", alloc = {{.*}}} : memref<100x64xi8>, memref<64x48xi8>, memref<100x48xi8>
// LOWER-NOT: loop.kernel
// LOWER-NEXT: func.return
// AUTO: gemmini.tiled_matmul %a, %b, %c {roles = "ABC", act = "relu", dims = [100, 48, 64], strides = [64, 48, 48, 48], scale = 0.0625 : f32, repeating_bias = false} : memref<100x64xi8>, memref<64x48xi8>, memref<100x48xi8>

builtin.module {
  func.func @fc(%a: memref<100x64xi8>, %b: memref<64x48xi8>, %c: memref<100x48xi8>) {
    "loop.kernel"(%a, %b, %c) ({
      loop.for %i = 0 to 100 step 1 attributes {dim = "I"} {
        loop.for %j = 0 to 48 step 1 attributes {dim = "J"} {
          loop.for %k = 0 to 64 step 1 attributes {dim = "K"} {
            loop.mac %c, %a, %b, %i, %j, %k {out_map = affine_map<(d0, d1, d2) -> (d0, d1)>, a_map = affine_map<(d0, d1, d2) -> (d0, d2)>, b_map = affine_map<(d0, d1, d2) -> (d2, d1)>} : memref<100x48xi8>, memref<100x64xi8>, memref<64x48xi8>, index, index, index
          }
        }
      }
    }) {sym_name = "fc", kind = "matmul", roles = "ABC", act = "relu", multiplier = 0.0625 : f32, dims = {I = 100, J = 48, K = 64}} : (memref<100x64xi8>, memref<64x48xi8>, memref<100x48xi8>) -> ()
    func.return
  }
}
