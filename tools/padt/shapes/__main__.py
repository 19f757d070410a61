"""python -m padt.shapes generate --split train|val|test --count N --out DIR [--seed S]
python -m padt.shapes stats --split train|val|test --count N [--seed S]"""

import argparse
import sys
import time

from .dataset import SPLITS, generate_split
from .stats import summarise
from .writer import write_split


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m padt.shapes", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write images/*.png and annotations.json")
    gen.add_argument("--split", required=True, choices=sorted(SPLITS))
    gen.add_argument("--count", required=True, type=int)
    gen.add_argument("--out", required=True)
    gen.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    gen.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    st = sub.add_parser("stats", help="print statistics of a split's first N images")
    st.add_argument("--split", required=True, choices=sorted(SPLITS))
    st.add_argument("--count", type=int, default=200)
    st.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    if getattr(args, "workers", 1) < 1:
        ap.error("--workers must be at least 1")

    if args.command == "stats":
        t0 = time.process_time()
        samples = list(generate_split(args.split, args.count, args.seed))
        dt = time.process_time() - t0
        print(f"{args.split} (seed {args.seed}), first {args.count} images")
        print("\n".join(summarise(samples)))
        print(f"generation: {args.count / dt:.0f} images/s per core (CPU time, no PNG)")
        return 0

    t0 = time.perf_counter()
    data = write_split(args.split, args.count, args.out, args.seed, args.workers)
    dt = time.perf_counter() - t0
    n = len(data["images"])
    print(
        f"{args.split} (seed {args.seed}): {n} images, {len(data['annotations'])} objects, "
        f"{len(data['referring'])} referring expressions, {len(data['ovd'])} OVD queries, "
        f"{len(data['captions'])} captions -> {args.out}"
    )
    print(f"{dt:.1f} s, {n / dt:.0f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
