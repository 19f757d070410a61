"""ONNX export of PaDT checkpoints: `python -m padt.export export <checkpoint> <bundle>`."""

from .bundle import BundleDirError, ExportResult, export_bundle

__all__ = ["BundleDirError", "ExportResult", "export_bundle"]
