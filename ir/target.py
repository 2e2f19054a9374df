"""The one description of a Gemmini instance, shared by passes, backends and the simulator.

Sizes follow Gemmini's generator (GemminiConfigs.scala): a scratchpad row is DIM int8
elements, an accumulator row is DIM int32 elements, and bank row counts derive from the
capacities. `Target.validate` applies every requirement the generator checks when it
elaborates a design (docs/simulator.md lists them with their source), so no Target exists
that Gemmini cannot build. Timing-only knobs (DRAM latency/bandwidth, queue depths) live
here too so a design point is one hashable value.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

Dataflow = Literal["WS", "OS", "BOTH"]

_ELEM_BITS = (8, 16, 32, 64)
# LocalAddr.scala: a local address is 32 bits, of which is_acc_addr, accumulate,
# read_full_acc_row (1 bit each) and NormCmd (8 values, 3 bits) are metadata.
_LOCAL_ADDR_BITS = 32
_LOCAL_ADDR_METADATA_BITS = 6
# The generator's header writer prints type limits as plain C integers (<= 32 bits).
_HEADER_MAX_BITS = 32
_MAX_BANKS = 32


class TargetError(ValueError):
    """A hardware description that Gemmini's generator would reject."""


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def legal_banks(kib: int, row_bytes: int, dim: int) -> list[int]:
    """Bank counts that split `kib` into banks whose row count the generator accepts:
    whole rows, a power of two (LocalAddr.scala) and a multiple of DIM
    (GemminiConfigs.scala)."""
    total = kib * 1024
    out = []
    for banks in range(1, _MAX_BANKS + 1):
        if total % (banks * row_bytes):
            continue
        rows = total // (banks * row_bytes)
        if rows >= dim and rows % dim == 0 and _is_pow2(rows):
            out.append(banks)
    return out


def pick_banks(kib: int, row_bytes: int, dim: int, preferred: int) -> int | None:
    """The legal bank count closest to `preferred` (Gemmini's default), or None."""
    options = legal_banks(kib, row_bytes, dim)
    return min(options, key=lambda b: (abs(b - preferred), b)) if options else None


def buildable_kib(kib: int, row_bytes: int, dim: int) -> int:
    """The smallest capacity >= `kib` (whole KiB) that some legal bank split realises."""
    size = max(1, kib)
    while not legal_banks(size, row_bytes, dim):
        size += 1
    return size


@dataclass(frozen=True)
class Target:
    """A Gemmini configuration. Defaults are Gemmini's `defaultConfig`."""

    dim: int = 16
    sp_kib: int = 256
    sp_banks: int = 4
    acc_kib: int = 64
    acc_banks: int = 2
    dataflow: Dataflow = "BOTH"
    input_bits: int = 8
    acc_bits: int = 32
    dma_bus_bits: int = 128
    dma_max_bytes: int = 64
    max_in_flight_reqs: int = 16
    rs_ld: int = 8
    rs_ex: int = 16
    rs_st: int = 4
    ld_queue: int = 8
    ex_queue: int = 8
    st_queue: int = 2
    spad_read_delay: int = 4
    acc_latency: int = 2
    dram_latency: int = 100
    dram_bytes_per_cycle: float = 16.0
    has_mvin_scale: bool = True
    acc_read_full_width: bool = True
    acc_read_small_width: bool = True
    has_first_layer_optimizations: bool = True

    def __post_init__(self) -> None:
        self.validate()

    # Derived sizes (GemminiConfigs.scala formulas).
    @property
    def sp_row_bytes(self) -> int:
        return self.dim * self.input_bits // 8

    @property
    def acc_row_bytes(self) -> int:
        return self.dim * self.acc_bits // 8

    @property
    def sp_bank_rows(self) -> int:
        return self.sp_kib * 1024 // (self.sp_banks * self.sp_row_bytes)

    @property
    def sp_rows(self) -> int:
        return self.sp_bank_rows * self.sp_banks

    @property
    def acc_bank_rows(self) -> int:
        return self.acc_kib * 1024 // (self.acc_banks * self.acc_row_bytes)

    @property
    def acc_rows(self) -> int:
        return self.acc_bank_rows * self.acc_banks

    @property
    def max_bytes(self) -> int:
        """The generator hard-codes 64, independent of dma_maxbytes."""
        return 64

    @property
    def max_block_len(self) -> int:
        return max(1, self.max_bytes // self.sp_row_bytes)

    @property
    def max_block_len_acc(self) -> int:
        return max(1, self.max_bytes // self.acc_row_bytes)

    @property
    def dma_tracked_cmds(self) -> int:
        """mvins (and, separately, mvouts) the DMA has in flight at once: LoadController's and
        StoreController's DMACommandTracker has max_in_flight_mem_reqs / DIM + 1 entries."""
        return max(1, self.max_in_flight_reqs // self.dim + 1)

    @property
    def dma_beat_bytes(self) -> int:
        return self.dma_bus_bits // 8

    @property
    def supports_ws(self) -> bool:
        return self.dataflow in ("WS", "BOTH")

    @property
    def supports_os(self) -> bool:
        return self.dataflow in ("OS", "BOTH")

    def validate(self) -> None:
        """Apply the requirements Gemmini's generator checks (docs/simulator.md)."""
        if self.dim < 2 or not _is_pow2(self.dim):
            raise TargetError(f"array dim must be a power of two >= 2, got {self.dim}")
        if self.dataflow not in ("WS", "OS", "BOTH"):
            raise TargetError(f"dataflow must be WS, OS or BOTH, got {self.dataflow!r}")
        if self.input_bits not in _ELEM_BITS or self.acc_bits not in _ELEM_BITS:
            raise TargetError("input and accumulator widths must be 8, 16, 32 or 64 bits")
        if max(self.input_bits, self.acc_bits) > _HEADER_MAX_BITS:
            raise TargetError(f"Gemmini's header generator writes types of at most "
                              f"{_HEADER_MAX_BITS} bits")
        for name in ("sp_kib", "sp_banks", "acc_kib", "acc_banks", "dma_bus_bits"):
            if getattr(self, name) <= 0:
                raise TargetError(f"{name} must be positive, got {getattr(self, name)}")
        sp_bytes = self.sp_kib * 1024
        if sp_bytes % (self.sp_banks * self.sp_row_bytes):
            raise TargetError(f"scratchpad of {self.sp_kib} KiB does not split into "
                              f"{self.sp_banks} banks of {self.sp_row_bytes}-byte rows")
        if not _is_pow2(self.sp_bank_rows) or self.sp_bank_rows % self.dim:
            raise TargetError(f"scratchpad bank rows ({self.sp_bank_rows}) must be a power of "
                              f"two and a multiple of DIM ({self.dim})")
        acc_bytes = self.acc_kib * 1024
        if acc_bytes % (self.acc_banks * self.acc_row_bytes):
            raise TargetError(f"accumulator of {self.acc_kib} KiB does not split into "
                              f"{self.acc_banks} banks of {self.acc_row_bytes}-byte rows")
        if not _is_pow2(self.acc_bank_rows) or self.acc_bank_rows % self.dim:
            raise TargetError(f"accumulator bank rows ({self.acc_bank_rows}) must be a power "
                              f"of two and a multiple of DIM ({self.dim})")
        if self.sp_rows // self.dim - 2 < self.acc_rows // self.dim:
            raise TargetError(f"accumulator ({self.acc_rows // self.dim} DIM-row tiles) must "
                              f"not exceed the scratchpad's tiles minus two "
                              f"({self.sp_rows // self.dim - 2})")
        addr_bits = max((self.sp_rows - 1).bit_length(), (self.acc_rows - 1).bit_length())
        if addr_bits + _LOCAL_ADDR_METADATA_BITS >= _LOCAL_ADDR_BITS:
            raise TargetError(f"buffers too large: {addr_bits}-bit row addresses do not fit "
                              f"Gemmini's 32-bit local address")

    @property
    def name(self) -> str:
        """Short stable name, used in file names and database keys."""
        return (f"gemmini-{self.dim}x{self.dim}-sp{self.sp_kib}k{self.sp_banks}"
                f"-acc{self.acc_kib}k{self.acc_banks}-{self.dataflow.lower()}"
                f"-bus{self.dma_bus_bits}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TargetError(f"unknown target field(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def parse(cls, spec: str) -> Target:
        """A preset name, a JSON file, or `key=value` pairs (`dim=8,sp_kib=64,acc_kib=16`)."""
        if spec in PRESETS:
            return cls(**PRESETS[spec])
        if "=" in spec:
            changes: dict[str, Any] = {}
            known = {f.name: f.type for f in dataclasses.fields(cls)}
            for item in spec.split(","):
                key, _, raw = item.partition("=")
                key = key.strip()
                if key not in known:
                    raise TargetError(f"unknown target field '{key}'")
                default = getattr(cls, key)
                try:
                    value: Any = (raw.strip() if isinstance(default, str) else
                                  raw.strip().lower() in ("1", "true", "yes")
                                  if isinstance(default, bool) else type(default)(raw))
                except ValueError:
                    raise TargetError(f"target field '{key}' got bad value '{raw}'") from None
                changes[key] = value
            return cls(**changes)
        try:
            with open(spec) as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise TargetError(f"unknown target '{spec}': not a preset ({', '.join(PRESETS)}), "
                              f"key=value list or JSON file") from None
        except (OSError, json.JSONDecodeError) as err:
            raise TargetError(f"cannot read target file '{spec}': {err}") from None
        if not isinstance(data, dict):
            raise TargetError(f"target file '{spec}' must hold a JSON object")
        return cls.from_dict(data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def replace(self, **changes: Any) -> Target:
        return dataclasses.replace(self, **changes)


#: Named hardware points: Gemmini's default, and the two extra configs the tests use.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "small": {"dim": 8, "sp_kib": 64, "acc_kib": 16},
    "large": {"dim": 32, "sp_kib": 512, "acc_kib": 128},
}
