// RUN: dlac-opt %s -p dce | filecheck %s --check-prefix=DCE
// RUN: dlac-opt %s -p strip-locations --debug-locs | filecheck %s --check-prefix=STRIP
// RUN: dlac-opt %s -p dce,strip-locations --print-ir-after-all -o /dev/null 2>&1 | filecheck %s --check-prefix=DUMP
// RUN: not dlac-opt %s -p 'test-fail{message=boom}' --reproducer %t 2>&1 | filecheck %s --check-prefix=FAIL
// RUN: not dlac-opt %s -p 'test-fail{crash=true}' 2>&1 | filecheck %s --check-prefix=CRASH
// RUN: not dlac-opt %s -p 'dce,no-such-pass' 2>&1 | filecheck %s --check-prefix=UNKNOWN

// DCE-LABEL: func.func @f
// DCE-NOT: loop.alloc
// DCE: func.return
// STRIP-NOT: loc(
// DUMP: // -----// IR Dump After dce //----- //
// DUMP: // -----// IR Dump After strip-locations //----- //
// FAIL: dlac-opt: error: pass 'test-fail' failed: boom (reproducer: {{.*}}.tmp)
// CRASH: dlac-opt: error: pass 'test-fail' failed: RuntimeError: requested failure (reproducer: {{.*}}.mlir)
// UNKNOWN: dlac-opt: error: unknown pass 'no-such-pass' (available: {{.*}})
func.func @f() {
  %0 = loop.alloc : () -> memref<4xi8>
  func.return
}
