"""Command line: python -m padt.export export <checkpoint_dir> <bundle_dir> [--dtype fp32|fp16]
[--max-long-side PX] [--first-vrt-features last_prompt_row|all_prompt_rows]
[--quantize int8|int4 [--quant-block-size N] [--quant-accuracy-level 0-4]]."""

from __future__ import annotations

import argparse
import sys

from ..checkpoint import CheckpointError
from ..config import FIRST_VRT_FEATURES
from .bundle import DTYPES, BundleDirError, export_bundle
from .manifest import ManifestSettingError
from .quantize import (
    ACCURACY_LEVELS,
    DEFAULT_ACCURACY_LEVEL,
    DEFAULT_BLOCK_SIZE,
    QuantizeError,
    QuantizeSettings,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m padt.export")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="export a PaDT checkpoint to an ONNX bundle")
    export.add_argument("checkpoint_dir")
    export.add_argument("bundle_dir")
    export.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    export.add_argument("--force", action="store_true", help="replace a non-empty bundle_dir")
    export.add_argument("--name", help="the model's name (default: the checkpoint folder's)")
    export.add_argument(
        "--max-long-side",
        type=int,
        help="largest image long side the vision tower takes, px, a multiple of 28 "
        "(default: the checkpoint's padt_max_long_side, else 644)",
    )
    export.add_argument(
        "--first-vrt-features",
        choices=FIRST_VRT_FEATURES,
        help="features of an object that starts the answer: the state that predicted it "
        "(last_prompt_row, ours, the default) or every prompt row (all_prompt_rows, the "
        "reference's; for imported checkpoints)",
    )
    export.add_argument(
        "--quantize",
        choices=("int8", "int4"),
        help="weight-only quantisation of the LLM's weight MatMuls (MatMulNBits)",
    )
    export.add_argument(
        "--quant-block-size",
        type=int,
        default=DEFAULT_BLOCK_SIZE,
        help=f"weights per scale along K, a power of two >= 16 (default {DEFAULT_BLOCK_SIZE})",
    )
    export.add_argument(
        "--quant-accuracy-level",
        type=int,
        choices=ACCURACY_LEVELS,
        default=DEFAULT_ACCURACY_LEVEL,
        help="MatMulNBits accuracy_level: 0 computes in float, 4 (default) in int8",
    )
    args = parser.parse_args(argv)
    quantize = None
    if args.quantize:
        bits = int(args.quantize.removeprefix("int"))
        quantize = QuantizeSettings(bits, args.quant_block_size, args.quant_accuracy_level)
    try:
        result = export_bundle(
            args.checkpoint_dir,
            args.bundle_dir,
            args.dtype,
            args.force,
            args.name,
            args.max_long_side,
            args.first_vrt_features,
            quantize,
        )
    except (CheckpointError, BundleDirError, ManifestSettingError, QuantizeError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    width = max(len(f["path"]) for f in result.files)
    for f in result.files:
        print(f"{f['path']:<{width}}  {f['bytes']:>14,d} bytes")
    total = sum(f["bytes"] for f in result.files)
    print(f"{'total':<{width}}  {total:>14,d} bytes")
    print(f"exported {result.bundle_dir} in {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
