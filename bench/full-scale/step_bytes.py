"""What one decode step of a bundle's LLM graph reads, for the bandwidth floor: every
initializer's bytes except tables only gathered from (the token embedding: one row a step;
with tied embeddings in fp32/fp16 bundles the LM head reads the same table in full, so it
counts). Prints JSON: weight_bytes_per_step, bundle_weight_bytes (weights.bin).

    tools/.venv/bin/python bench/full-scale/step_bytes.py BUNDLE
"""

import json
import sys
from pathlib import Path

import onnx


def main(bundle: Path) -> None:
    doc = json.loads((bundle / "padt.json").read_text())
    proto = onnx.load(bundle / doc["graphs"]["llm"]["file"], load_external_data=False)
    readers: dict[str, set[str]] = {}
    for node in proto.graph.node:
        for i, name in enumerate(node.input):
            readers.setdefault(name, set()).add(
                "gather" if node.op_type == "Gather" and i == 0 else "full"
            )
    total = 0
    for t in proto.graph.initializer:
        if "full" not in readers.get(t.name, {"full"}):
            continue
        entries = {e.key: e.value for e in t.external_data}
        total += int(entries["length"]) if "length" in entries else len(t.raw_data)
    print(
        json.dumps(
            {
                "weight_bytes_per_step": total,
                "bundle_weight_bytes": (bundle / "weights.bin").stat().st_size,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
