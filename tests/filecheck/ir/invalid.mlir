// RUN: dlac-opt %s --split-input-file --verify-diagnostics

func.func @f() {
  // expected-error @+1 {{unknown op 'nope.op'}}
  nope.op
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{use of undefined value '%missing'}}
  %0 = graph.relu %missing : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @f(%x: tensor<2xf32>) {
  // expected-error @+1 {{type mismatch for operand #0 '%x' of 'graph.relu': declared tensor<2xi8>, defined as tensor<2xf32>}}
  %0 = graph.relu %x : (tensor<2xi8>) -> tensor<2xi8>
  func.return
}

// -----

func.func @f(%x: tensor<2xf32>) {
  // expected-error @+1 {{redefinition of value '%x'}}
  %x = graph.relu %x : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{integer 300 does not fit in i8}}
  gemmini.fence {a = 300 : i8}
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{bad affine map: product of two variables is not linear}}
  gemmini.fence {m = affine_map<(d0, d1) -> (d0 * d1)>}
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{bad dense constant: shape [3] does not match tensor<2xi8>}}
  gemmini.fence {w = dense<[1, 2, 3]> : tensor<2xi8>}
  func.return
}

// -----

func.func @f() {
  // expected-error @+2 {{unexpected '}': unbalanced braces}}
  }
}

// -----

// expected-error @+1 {{'{' is never closed (unexpected end of input)}}
func.func @f() {
  gemmini.fence

// -----

func.func @f() {
  // expected-error @+1 {{'gemmini.config_ld' op requires attribute 'id'}}
  gemmini.config_ld {stride = 4}
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{'gemmini.config_ld' op attribute 'stride' must be IntAttr, got "4"}}
  gemmini.config_ld {stride = "4", id = 0}
  func.return
}

// -----

// expected-error @+1 {{'func.func' op body block must end with a terminator}}
func.func @f() {
  gemmini.fence
}

// -----

func.func @f() -> tensor<2xf32> {
  %0 = graph.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  // expected-error @+1 {{'func.return' op returns () but the function declares (tensor<2xf32>)}}
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{'loop.for' op step must be positive, got 0}}
  loop.for %i = 0 to 4 step 0 {
  }
  func.return
}

// -----

func.func @f() {
  // expected-error @+1 {{unexpected character '$'}}
  $
  func.return
}

// -----

func.func @f(%x: memref<1x4x4x8xi8>, %w: memref<3x3x8x8xi8>, %y: memref<1x4x4x8xi8>) {
  // expected-error @+1 {{'gemmini.tiled_conv' op a block-diagonal conv needs as many input as output channels}}
  gemmini.tiled_conv %x, %w, %y {roles = "IWO", geometry = {in_channels = 8, out_channels = 4}, scale = 1.0 : f32, block_diagonal = true} : memref<1x4x4x8xi8>, memref<3x3x8x8xi8>, memref<1x4x4x8xi8>
  func.return
}

// -----

func.func @f(%a: tensor<4x8xi8>, %b: tensor<8x8xi8>) {
  // expected-error @+1 {{'qgraph.matmul' op an i32 (accumulator) result needs act none, multiplier 1}}
  %0 = qgraph.matmul %a, %b {multiplier = 1.0 : f32, act = "relu"} : (tensor<4x8xi8>, tensor<8x8xi8>) -> tensor<4x8xi32>
  func.return
}

// -----

func.func @f(%a: tensor<4x8xi32>, %b: tensor<4x8xi8>) {
  // expected-error @+1 {{'qgraph.add' op operand tensor<4x8xi32> does not fit an i8 result}}
  %0 = qgraph.add %a, %b {a_scale = 1.0 : f32, b_scale = 1.0 : f32, c_scale = 1.0 : f32, act = "none"} : (tensor<4x8xi32>, tensor<4x8xi8>) -> tensor<4x8xi8>
  func.return
}
