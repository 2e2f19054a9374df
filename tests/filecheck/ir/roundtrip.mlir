// RUN: dlac-opt %s | filecheck %s
// RUN: dlac-opt %s | dlac-opt | filecheck %s
// RUN: dlac-opt %s --generic | dlac-opt | filecheck %s

// Top-level ops without a module are wrapped in one.
// CHECK-LABEL: builtin.module {
// CHECK: func.func @main([[X:%.+]]: tensor<1x8xf32>) -> tensor<1x8xf32> {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // CHECK-NEXT: [[A:%.+]] = graph.add [[X]], [[X]] : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %a = graph.add %x, %x : (tensor<1x8xf32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  // Generic form in the input prints in the op's custom form.
  // CHECK-NEXT: [[R:%.+]] = graph.relu [[A]] : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %r = "graph.relu"(%a) : (tensor<1x8xf32>) -> tensor<1x8xf32>
  // CHECK-NEXT: func.return [[R]] : tensor<1x8xf32>
  func.return %r : tensor<1x8xf32>
}

// CHECK: func.func @attrs() {
func.func @attrs() {
  // CHECK-NEXT: gemmini.config_ld {stride = 64, id = 0, scale = 0.125 : f32, shrunk = false, note = "tab\there", list = [1, -2, [3]], nested = {a = 1 : i32, b = inf}, ty = tensor<2x?xi8>, flag}
  gemmini.config_ld {stride = 64, id = 0, scale = 0.125 : f32, shrunk = false, note = "tab\there", list = [1, -2, [3]], nested = {a = 1 : i32, b = inf}, ty = tensor<2x?xi8>, flag}
  // CHECK-NEXT: gemmini.fence {w = dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>, m = affine_map<(d0, d1)[s0] -> (d0 * 2 + d1 - 1, s0)>}
  gemmini.fence {w = dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>, m = affine_map<(d0, d1)[s0] -> (2 * d0 + d1 - 1, s0)>}
  // CHECK-NEXT: func.return
  func.return
}
