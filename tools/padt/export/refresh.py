"""Bring an fp32, unquantised bundle to the current format in place: its weights through the importer
(bundle -> checkpoint), the current exporter, then only what the export changed is replaced.

    python -m padt.export.refresh BUNDLE_DIR

Why not a plain re-export: the importer rebuilds the config from the manifest, and fields that
the original export left unset (the generation settings a trained model never chose, an absent
``first_vrt_features``) would come back as transformers' defaults. Graph files, the weights file,
``format_version``, ``graphs`` and the checksums of the files that changed are taken from the
fresh export; every other manifest field stays as it was. Used for models/padt-tiny-shapes (the
fixture bundle has its own script: ``python -m padt.golden --make-fixture``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from .bundle import export_bundle
from .importer import import_bundle
from .manifest import MANIFEST

# Manifest keys that describe the graphs rather than the model.
_GRAPH_KEYS = ("format_version", "graphs", "weights_file")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def refresh_bundle(bundle_dir: str | Path) -> list[str]:
    """Re-exports ``bundle_dir`` in place; returns the files it replaced."""
    bundle_dir = Path(bundle_dir)
    old = json.loads((bundle_dir / MANIFEST).read_text())
    with tempfile.TemporaryDirectory(prefix="padt-refresh-") as tmp:
        checkpoint = import_bundle(bundle_dir, Path(tmp) / "checkpoint")
        fresh_dir = Path(tmp) / "bundle"
        export_bundle(checkpoint, fresh_dir, dtype=old["dtype"], model_name=old["model"]["name"])
        fresh = json.loads((fresh_dir / MANIFEST).read_text())
        old_files = {f["path"]: f for f in old["files"]}
        # Compared with the files themselves, not the old manifest's record of them.
        changed = [
            f["path"]
            for f in fresh["files"]
            if not (bundle_dir / f["path"]).is_file()
            or _sha256(bundle_dir / f["path"]) != f["sha256"]
        ]
        # Only the graphs and their weights: tokenizer and template stay the bundle's own.
        changed = [p for p in changed if p.endswith(".onnx") or p == fresh["weights_file"]]
        for path in changed:
            shutil.copyfile(fresh_dir / path, bundle_dir / path)
    fresh_files = {f["path"]: f for f in fresh["files"]}
    doc = {**old, **{k: fresh[k] for k in _GRAPH_KEYS if k in fresh}}
    doc["files"] = [
        fresh_files.get(f["path"], f) if f["path"] in changed else f for f in old["files"]
    ]
    doc["files"] += [fresh_files[p] for p in changed if p not in old_files]
    (bundle_dir / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m padt.export.refresh", description=__doc__)
    p.add_argument("bundle", type=Path)
    args = p.parse_args(argv)
    changed = refresh_bundle(args.bundle)
    print(f"refreshed {args.bundle}: {', '.join(changed) or 'nothing changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
