"""dlac.ir: the MLIR-style IR core. Imports nothing else of dlac."""
