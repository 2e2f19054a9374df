// RUN: dlac-opt %s -p 'hoist-elementwise' | filecheck %s
// RUN: dlac-opt %s -p 'hoist-elementwise,compose-gathers' | filecheck %s --check-prefix=COMPOSED

// The requantisation runs on the 2 source elements, then the upsample copies its results.
// CHECK-LABEL: func.func @upsample
// CHECK-NEXT: %t_pre = loop.alloc {label = "t_pre"} : () -> memref<2xi8, "dram">
// CHECK-NEXT: loop.for %{{.*}} = 0 to 2 step 1
// CHECK-NEXT: loop.load %x
// CHECK-NEXT: loop.requant
// CHECK-NEXT: loop.store %{{.*}}, %t_pre
// CHECK: %t = loop.alloc
// CHECK-NEXT: loop.gather %t_pre, %t {table = dense<[0, 0, 1, 1]> : tensor<4xi32>}
// CHECK-NOT: %up
// CHECK: loop.gather %t, %z, %y

// ... and the upsample's gather composes with the concatenation reading it.
// COMPOSED-LABEL: func.func @upsample
// COMPOSED: loop.gather %t_pre, %z, %y {table = dense<[0, 0, 1, 1, 2, 3]> : tensor<6xi32>}

// A LUT need not keep 0 at 0: over a zero-filling gather it stays after the gather.
// CHECK-LABEL: func.func @padded_lut
// CHECK: loop.gather %x2, %up2
// CHECK: loop.load %up2

builtin.module {
  func.func @upsample(%x: memref<2xi8, "dram">, %z: memref<2xi8, "dram">, %y: memref<6xi8, "dram">) {
    %up = loop.alloc {label = "up"} : () -> memref<4xi8, "dram">
    loop.gather %x, %up {table = dense<[0, 0, 1, 1]> : tensor<4xi32>} : memref<2xi8, "dram">, memref<4xi8, "dram">
    %t = loop.alloc {label = "t"} : () -> memref<4xi8, "dram">
    loop.for %d0 = 0 to 4 step 1 attributes {dim = "D0", iter = "parallel"} {
      %0 = loop.load %up, %d0 {map = affine_map<(d0) -> (d0)>} : (memref<4xi8, "dram">, index) -> i8
      %1 = loop.requant %0 {multiplier = 0.5 : f32} : (i8) -> i8
      loop.store %1, %t, %d0 {map = affine_map<(d0) -> (d0)>} : i8, memref<4xi8, "dram">, index
    }
    loop.gather %t, %z, %y {table = dense<[0, 1, 2, 3, 4, 5]> : tensor<6xi32>} : memref<4xi8, "dram">, memref<2xi8, "dram">, memref<6xi8, "dram">
    func.return
  }
  func.func @padded_lut(%x2: memref<2xi8, "dram">, %y2: memref<4xi8, "dram">) {
    %up2 = loop.alloc {label = "up2"} : () -> memref<4xi8, "dram">
    loop.gather %x2, %up2 {table = dense<[0, -1, 1, -1]> : tensor<4xi32>} : memref<2xi8, "dram">, memref<4xi8, "dram">
    loop.for %e0 = 0 to 4 step 1 attributes {dim = "D0", iter = "parallel"} {
      %2 = loop.load %up2, %e0 {map = affine_map<(d0) -> (d0)>} : (memref<4xi8, "dram">, index) -> i8
      %3 = loop.lut %2 {table = dense<1> : tensor<256xi8>} : (i8) -> i8
      loop.store %3, %y2, %e0 {map = affine_map<(d0) -> (d0)>} : i8, memref<4xi8, "dram">, index
    }
    func.return
  }
}
