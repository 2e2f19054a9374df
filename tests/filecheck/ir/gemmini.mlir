// RUN: dlac-opt %s | dlac-opt | filecheck %s

// CHECK-LABEL: func.func @tile
func.func @tile(%a: memref<16x16xi8, "dram">, %c: memref<16x16xi8, "dram">) {
  // CHECK-NEXT: gemmini.config_ex {dataflow = "WS", act = "relu", sys_shift = 0}
  gemmini.config_ex {dataflow = "WS", act = "relu", sys_shift = 0}
  // CHECK-NEXT: gemmini.config_ld {stride = 16, id = 0, scale = 1.0 : f32}
  gemmini.config_ld {stride = 16, id = 0, scale = 1.0 : f32}
  // CHECK-NEXT: gemmini.mvin %a {id = 0, offset = 0, addr = 0, rows = 16, cols = 16} : memref<16x16xi8, "dram">
  gemmini.mvin %a {id = 0, offset = 0, addr = 0, rows = 16, cols = 16} : memref<16x16xi8, "dram">
  // CHECK-NEXT: gemmini.preload {bd_addr = 4294967295, c_addr = 2147483648, bd_rows = 16, bd_cols = 16, c_rows = 16, c_cols = 16}
  gemmini.preload {bd_addr = 4294967295, c_addr = 2147483648, bd_rows = 16, bd_cols = 16, c_rows = 16, c_cols = 16}
  // CHECK-NEXT: gemmini.compute_preloaded {a_addr = 0, bd_addr = 4294967295, a_rows = 16, a_cols = 16, bd_rows = 16, bd_cols = 16}
  gemmini.compute_preloaded {a_addr = 0, bd_addr = 4294967295, a_rows = 16, a_cols = 16, bd_rows = 16, bd_cols = 16}
  // CHECK-NEXT: gemmini.mvout %c {offset = 0, addr = 2147483648, rows = 16, cols = 16} : memref<16x16xi8, "dram">
  gemmini.mvout %c {offset = 0, addr = 2147483648, rows = 16, cols = 16} : memref<16x16xi8, "dram">
  // CHECK-NEXT: gemmini.fence
  gemmini.fence
  func.return
}
