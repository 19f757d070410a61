"""Training and evaluation of the small PaDT model on Shapes (issue 4).

- ``padt.train.shapes_model``: tokenizer and scaled-down Qwen2.5-VL PaDT config;
- ``padt.train.data``: Shapes samples -> teacher-forcing items (VRT picks, targets);
- ``padt.train.losses`` / ``padt.train.step``: PADT_MODEL.md section 5 losses;
- ``python -m padt.train``: the training loop (``padt.train.trainer``);
- ``python -m padt.train.evaluate``: quality on the Shapes test split.
"""
