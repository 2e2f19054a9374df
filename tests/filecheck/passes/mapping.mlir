// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json}' | filecheck %s --check-prefix=MAT
// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json},tile' | filecheck %s --check-prefix=TILE
// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json},tile,reorder' | filecheck %s --check-prefix=REORDER
// RUN: dlac-opt %s -p 'materialize{point=%S/mapping_point.json},tile,reorder,map-spatial' | filecheck %s --check-prefix=SPATIAL
// RUN: dlac-opt %s -p 'materialize' | filecheck %s --check-prefix=HEUR
// RUN: not dlac-opt %s -p tile 2>&1 | filecheck %s --check-prefix=NOMAP

// A 100x48x64 matmul (C[I x J] = A[I x K] B[K x J]) on the default 16x16 Gemmini.
builtin.module {
  func.func @fc(%a: memref<100x64xi8>, %b: memref<64x48xi8>, %c: memref<100x48xi32>) {
    "loop.kernel"(%c, %a, %b) ({
      loop.for %i = 0 to 100 step 1 attributes {dim = "I", iter = "parallel"} {
        loop.for %j = 0 to 48 step 1 attributes {dim = "J", iter = "parallel"} {
          loop.for %k = 0 to 64 step 1 attributes {dim = "K", iter = "reduction"} {
            loop.mac %c, %a, %b, %i, %j, %k {out_map = affine_map<(d0, d1, d2) -> (d0, d1)>, a_map = affine_map<(d0, d1, d2) -> (d0, d2)>, b_map = affine_map<(d0, d1, d2) -> (d2, d1)>} : memref<100x48xi32>, memref<100x64xi8>, memref<64x48xi8>, index, index, index
          }
        }
      }
    }) {sym_name = "fc", kind = "matmul", dims = {I = 100, J = 48, K = 64}, layer = {kind = "matmul", i = 100, j = 48, k = 64, has_bias = false}} : (memref<100x48xi32>, memref<100x64xi8>, memref<64x48xi8>) -> ()
    func.return
  }
}

// MAT: mapping = {dims = "IJK", tiles = [32, 48, 32], perm = "JIK", dataflow = "WS", double_buffer = true}
// HEUR: mapping = {dims = "IJK", tiles = [100, 48, 64], perm = "IJK", dataflow = "WS", double_buffer = true}
// NOMAP: error: pass 'tile' failed on node '{{.*}}' (loop.kernel): 'loop.kernel' op has no mapping: run 'materialize' first

// TILE: loop.for [[I0:%.+]] = 0 to 100 step 32 attributes {dim = "I", iter = "parallel", level = "dram"} {
// TILE-NEXT: loop.for [[J0:%.+]] = 0 to 48 step 48 attributes {dim = "J", iter = "parallel", level = "dram"} {
// TILE-NEXT: loop.for [[K0:%.+]] = 0 to 64 step 32 attributes {dim = "K", iter = "reduction", level = "dram"} {
// TILE-NEXT: loop.for [[I1:%.+]] = 0 to 32 step 1 attributes {dim = "I", iter = "parallel", level = "tile", extent = 100} {
// TILE-NEXT: loop.for [[J1:%.+]] = 0 to 48 step 1 attributes {dim = "J", iter = "parallel", level = "tile"} {
// TILE-NEXT: loop.for [[K1:%.+]] = 0 to 32 step 1 attributes {dim = "K", iter = "reduction", level = "tile"} {
// TILE-NEXT: [[I:%.+]] = loop.apply [[I0]], [[I1]] {map = affine_map<(d0, d1) -> (d0 + d1)>, dim_of = "I"}
// TILE-NEXT: [[J:%.+]] = loop.apply [[J0]], [[J1]] {map = affine_map<(d0, d1) -> (d0 + d1)>, dim_of = "J"}
// TILE-NEXT: [[K:%.+]] = loop.apply [[K0]], [[K1]] {map = affine_map<(d0, d1) -> (d0 + d1)>, dim_of = "K"}
// TILE-NEXT: loop.mac %c, %a, %b, [[I]], [[J]], [[K]] {

// REORDER: loop.for [[J0:%.+]] = 0 to 48 step 48 attributes {dim = "J", iter = "parallel", level = "dram"} {
// REORDER-NEXT: loop.for [[I0:%.+]] = 0 to 100 step 32 attributes {dim = "I", iter = "parallel", level = "dram"} {
// REORDER-NEXT: loop.for [[K0:%.+]] = 0 to 64 step 32 attributes {dim = "K", iter = "reduction", level = "dram"} {
// REORDER-NEXT: loop.for [[I1:%.+]] = 0 to 32 step 1 attributes {{.*}}level = "tile", extent = 100} {
// REORDER: [[I:%.+]] = loop.apply [[I0]], [[I1]] {map = affine_map<(d0, d1) -> (d0 + d1)>, dim_of = "I"}
// REORDER: loop.mac %c, %a, %b, [[I]],

// SPATIAL: loop.for {{%.+}} = 0 to 48 step 48 attributes {dim = "J", {{.*}}level = "dram"} {
// SPATIAL-NEXT: loop.for {{%.+}} = 0 to 100 step 32 attributes {dim = "I", {{.*}}level = "dram"} {
// SPATIAL-NEXT: loop.for {{%.+}} = 0 to 64 step 32 attributes {dim = "K", {{.*}}level = "dram"} {
// SPATIAL-NEXT: loop.for [[K1:%.+]] = 0 to 32 step 16 attributes {dim = "K", {{.*}}level = "tile"} {
// SPATIAL-NEXT: loop.for [[J1:%.+]] = 0 to 48 step 16 attributes {dim = "J", {{.*}}level = "tile"} {
// SPATIAL-NEXT: loop.for [[I1:%.+]] = 0 to 32 step 1 attributes {dim = "I", {{.*}}level = "tile", extent = 100} {
// SPATIAL-NEXT: loop.for [[K2:%.+]] = 0 to 16 step 1 attributes {dim = "K", level = "array", spatial = "rows"} {
// SPATIAL-NEXT: loop.for [[J2:%.+]] = 0 to 16 step 1 attributes {dim = "J", level = "array", spatial = "cols"} {
// SPATIAL: loop.apply {{%.+}}, [[K1]], [[K2]] {map = affine_map<(d0, d1, d2) -> (d0 + d1 + d2)>, dim_of = "K"}
