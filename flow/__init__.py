"""The compile flow: ONNX -> quantized graph -> mapped loops (stages), C on disk (emit), and
its bit-exact check on the simulator (validate). It chains the frontend, the passes, the
backends and the simulator, none of which know each other.
"""
