"""Gemmini mappings: what they are, which are legal, what Gemmini picks, what they cost.

The IR passes (materialize, tile, reorder, map-spatial, allocate-buffers,
lower-to-gemmini) are thin wrappers over this library: a `Mapping` round-trips through a
plain dict of attribute values (`Mapping.to_attrs` / `Mapping.from_attrs`).
"""

from .analytical import AnalyticalModel, Cost, ModelParams, evaluate
from .batch import MappingBatch
from .dosa import DosaMapping, from_dosa, layer_from_dosa_problem, to_dosa
from .errors import MappingError, NoLegalMapping
from .heuristic import conv_tiles, heuristic_mapping, matmul_tiles
from .layer import CANON, ConvLayer, Layer, LayerError, MatmulLayer, layer_from_dict
from .mappers import MAPPERS, Choice, choose
from .mapping import Mapping
from .space import VECTOR_LEN, MappingSpace

__all__ = [
    "CANON", "MAPPERS", "VECTOR_LEN", "AnalyticalModel", "Choice", "ConvLayer", "Cost",
    "DosaMapping", "Layer", "LayerError", "Mapping", "MappingBatch", "MappingError",
    "MappingSpace", "MatmulLayer", "ModelParams", "NoLegalMapping", "choose", "conv_tiles",
    "evaluate", "from_dosa", "heuristic_mapping", "layer_from_dict", "layer_from_dosa_problem",
    "matmul_tiles", "to_dosa",
]
