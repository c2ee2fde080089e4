#!/usr/bin/env python3
"""Check a Salon bulletin board (SPEC §5.1) from the board alone: python tools/verify_board.py board.json
[--receipt FINGERPRINT]. Needs only Python's standard library and coincurve (libsecp256k1); it loads the
protocol's code from salon/sealed/ next to it without importing the rest of Salon (no Flask, no database).
Prints OK and the counts, or every problem; exit status 0 only if everything checks out (and the receipt,
if given, is on the board). The protocol: docs/sealed-ballots.md."""
import argparse
import importlib.util
import sys
from pathlib import Path

SEALED = Path(__file__).resolve().parent.parent / "salon" / "sealed"


def load_sealed(module: str = "board"):
    """salon/sealed/<module>.py, loaded as sealed.<module> without importing the rest of Salon
    (tools/seal_ballot.py loads the client this way too)."""
    try:
        import coincurve  # noqa: F401
    except ImportError:
        sys.exit(f"{Path(sys.argv[0]).name or 'this tool'} needs coincurve (libsecp256k1): "
                 f"python -m pip install 'coincurve>=21,<22'")
    if list(getattr(sys.modules.get("sealed"), "__path__", [])) != [str(SEALED)]:  # not loaded yet (by the other tool)
        spec = importlib.util.spec_from_file_location("sealed", SEALED / "__init__.py",
                                                      submodule_search_locations=[str(SEALED)])
        package = importlib.util.module_from_spec(spec)
        sys.modules["sealed"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"sealed.{module}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Salon bulletin board.")
    parser.add_argument("board", type=Path, help="the board's JSON file")
    parser.add_argument("--receipt", help="your ballot's fingerprint (the receipt shown when you voted)")
    args = parser.parse_args(argv)
    ok, lines = load_sealed().report(args.board.read_bytes(), args.receipt)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
