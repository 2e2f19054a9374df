// RUN: not dlac-opt %s -p allocate-buffers 2>&1 | filecheck %s

// An 8 KiB scratchpad offers 256 rows per double-buffered tile; the whole 100x48x64
// matmul needs 640.
// CHECK: dlac-opt: error: pass 'allocate-buffers' failed on node '{{.*}}:8:5' (loop.kernel): 'loop.kernel' op tile of layer 'fc' needs 640 scratchpad and 336 accumulator rows, but gemmini-16x16-sp8k4-acc8k2-both-bus128 offers 256 and 64 per tile
builtin.module attributes {dlac.target = {dim = 16, sp_kib = 8, acc_kib = 8}} {
  func.func @fc(%a: memref<100x64xi8>, %b: memref<64x48xi8>, %c: memref<100x48xi8>) {
    "loop.kernel"(%a, %b, %c) ({
      loop.for %i = 0 to 100 step 1 attributes {dim = "I"} {
        gemmini.fence
      }
    }) {sym_name = "fc", kind = "matmul", roles = "ABC", act = "relu", multiplier = 0.0625 : f32, dims = {I = 100, J = 48, K = 64}, mapping = {dims = "IJK", tiles = [100, 48, 64], perm = "IJK", dataflow = "WS", double_buffer = true}} : (memref<100x64xi8>, memref<64x48xi8>, memref<100x48xi8>) -> ()
    func.return
  }
}
