"""padt.export.refresh: an older bundle brought to the current format in place, from its own
weights; graph files and their manifest entries replaced, every other manifest field kept."""

import hashlib
import json
import shutil
from pathlib import Path

import onnx

from padt.export.manifest import FORMAT_VERSION
from padt.export.refresh import refresh_bundle

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "padt-tiny-random"


def test_refresh_replaces_the_graphs_and_keeps_the_rest(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(FIXTURE, bundle)
    manifest = json.loads((bundle / "padt.json").read_text())
    current_llm = (bundle / "llm.onnx").read_bytes()
    # An older export: another format version, another LLM graph, and settings the importer
    # would not reproduce (a field the export never wrote, an unset sampling setting).
    manifest["format_version"] = FORMAT_VERSION - 1
    manifest["generation"] = {"max_new_tokens": 7, "decoding": "greedy"}
    manifest.pop("first_vrt_features", None)
    (bundle / "padt.json").write_text(json.dumps(manifest))
    older = onnx.load(str(bundle / "llm.onnx"), load_external_data=False)
    older.doc_string = "an older export"  # the same weights, other graph bytes
    onnx.save(older, str(bundle / "llm.onnx"))

    assert refresh_bundle(bundle) == ["llm.onnx"]
    refreshed = json.loads((bundle / "padt.json").read_text())
    assert refreshed["format_version"] == FORMAT_VERSION
    assert refreshed["generation"] == {"max_new_tokens": 7, "decoding": "greedy"}
    assert "first_vrt_features" not in refreshed
    assert (bundle / "llm.onnx").read_bytes() == current_llm
    for entry in refreshed["files"]:
        data = (bundle / entry["path"]).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["bytes"])
