"""evalkit: measure machine-translation quality on noisy parallel documents.

The library API a notebook uses is `evalkit.pipeline.run(load_config(path))`;
the CLI is a thin layer over it.
"""

__version__ = "0.1.0"
