/* The simulator's side of the cost hooks of dlac_gemmini_tiles.h / dlac_gemmini_ext.h,
 * included by gemmini_lib.h before the tile loops: the library calls and tiles charge
 * the same CPU work to the simulated clock as the simulator's own tiled_* calls, their
 * bytes set the LLC miss fraction, and a bad argument is a library check (a compiled
 * program exits with one line, Python raises). Not part of the Gemmini API: gemmini.h and
 * the extensions never name anything here. The macros expand where the extensions use
 * them, after gemmini.h has defined what they call. */
#ifndef DLAC_SIM_EXT_HOOKS_H
#define DLAC_SIM_EXT_HOOKS_H

#define DLAC_EXT_CALL(conv) dlac_charge(0, conv)
#define DLAC_EXT_TILE(conv) dlac_charge(1, conv)
#define DLAC_EXT_BYTES(bytes) gemmini_working_set(bytes)
#define DLAC_EXT_FAIL(reason) gemmini_lib_fail(reason)

#endif
