// RUN: dlac-opt %s | filecheck %s
// RUN: dlac-opt %s --generic | filecheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @nest
// GENERIC-LABEL: "func.func"() ({
func.func @nest(%buf: memref<64x64xi8, "dram">) {
  // CHECK: loop.for [[I:%.+]] = 0 to 64 step 16 attributes {dim = "K", iter = "parallel"} {
  // GENERIC: "loop.for"() ({
  // GENERIC-NEXT: ^bb0([[I:%.+]]: index):
  loop.for %i = 0 to 64 step 16 attributes {dim = "K", iter = "parallel"} {
    // CHECK-NEXT: loop.for [[J:%.+]] = 0 to 64 step 1 {
    loop.for %j = 0 to 64 step 1 {
      // CHECK-NEXT: [[V:%.+]] = loop.load %buf, [[I]], [[J]] {map = affine_map<(d0, d1) -> (d0, d1)>} : (memref<64x64xi8, "dram">, index, index) -> i8
      %v = loop.load %buf, %i, %j {map = affine_map<(d0, d1) -> (d0, d1)>} : (memref<64x64xi8, "dram">, index, index) -> i8
      // CHECK-NEXT: loop.store [[V]], %buf, [[J]], [[I]] {map = affine_map<(d0, d1) -> (d0, d1)>} : i8, memref<64x64xi8, "dram">, index, index
      loop.store %v, %buf, %j, %i {map = affine_map<(d0, d1) -> (d0, d1)>} : i8, memref<64x64xi8, "dram">, index, index
    }
    // GENERIC: }) {lb = 0, ub = 64, "step" = 1} : () -> ()
  }
  // GENERIC: }) {lb = 0, ub = 64, "step" = 16, dim = "K", iter = "parallel"} : () -> ()
  func.return
}
