// RUN: dlac-opt %s -p 'compose-gathers' | filecheck %s

// y[e] = t[table2[e]], t[i] = x[table1[i]]: one gather from %x (a -1 stays a zero).
// CHECK-LABEL: func.func @chain
// CHECK-NOT: %t
// CHECK: loop.gather %x, %y {table = dense<[0, -1, 1, 2]> : tensor<4xi32>}
// CHECK-NEXT: func.return

// Composed into the second source of a concat: the later indices are unchanged.
// CHECK-LABEL: func.func @concat
// CHECK: loop.gather %a, %b, %z {table = dense<[0, 1, 3, 2]> : tensor<4xi32>}

// A scratch buffer something else also reads stays.
// CHECK-LABEL: func.func @shared
// CHECK: loop.gather %x3, %t3
// CHECK: loop.gather %t3, %y3

builtin.module {
  func.func @chain(%x: memref<3xi8, "dram">, %y: memref<4xi8, "dram">) {
    %t = loop.alloc {label = "t"} : () -> memref<3xi8, "dram">
    loop.gather %x, %t {table = dense<[2, 0, 1]> : tensor<3xi32>} : memref<3xi8, "dram">, memref<3xi8, "dram">
    loop.gather %t, %y {table = dense<[1, -1, 2, 0]> : tensor<4xi32>} : memref<3xi8, "dram">, memref<4xi8, "dram">
    func.return
  }
  func.func @concat(%a: memref<2xi8, "dram">, %b: memref<2xi8, "dram">, %z: memref<4xi8, "dram">) {
    %u = loop.alloc {label = "u"} : () -> memref<2xi8, "dram">
    loop.gather %b, %u {table = dense<[1, 0]> : tensor<2xi32>} : memref<2xi8, "dram">, memref<2xi8, "dram">
    loop.gather %a, %u, %z {table = dense<[0, 1, 2, 3]> : tensor<4xi32>} : memref<2xi8, "dram">, memref<2xi8, "dram">, memref<4xi8, "dram">
    func.return
  }
  func.func @shared(%x3: memref<3xi8, "dram">, %y3: memref<3xi8, "dram">, %w3: memref<3xi8, "dram">) {
    %t3 = loop.alloc {label = "t3"} : () -> memref<3xi8, "dram">
    loop.gather %x3, %t3 {table = dense<[2, 0, 1]> : tensor<3xi32>} : memref<3xi8, "dram">, memref<3xi8, "dram">
    loop.gather %t3, %y3 {table = dense<[1, 0, 2]> : tensor<3xi32>} : memref<3xi8, "dram">, memref<3xi8, "dram">
    loop.gather %t3, %w3 {table = dense<[0, 1, 2]> : tensor<3xi32>} : memref<3xi8, "dram">, memref<3xi8, "dram">
    func.return
  }
}
