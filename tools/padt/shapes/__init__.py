"""Shapes: seeded synthetic grounding data (REC, RES, OVD, RIC) for small PaDT models."""

from .dataset import SPLITS, Sample, generate_sample, generate_split
from .writer import coco_dict, write_split

__all__ = ["SPLITS", "Sample", "coco_dict", "generate_sample", "generate_split", "write_split"]
