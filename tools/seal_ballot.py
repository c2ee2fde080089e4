#!/usr/bin/env python3
"""Seal a Salon ballot outside the browser (SPEC §5.1), for an API client:

    python tools/seal_ballot.py spec.json --choose 12,15 > body.json
    python tools/seal_ballot.py --url https://salon.example/api/v1/polls/7 --choose 12,15 > body.json
    curl -H "Authorization: Bearer $SALON_API_TOKEN" -H "Content-Type: application/json" \\
         --data @body.json https://salon.example/api/v1/polls/7/ballot

Reads the poll's seal spec (a file, `-` for stdin, or the API's poll JSON fetched with --url and the bearer
token of $SALON_API_TOKEN or --token), prints the body to POST, {"sealed": <ballot>} (--bare: the ballot
alone), and the ballot's fingerprint — your receipt — on stderr. Exit status 0 when sealed, 2 when the choices
break the poll's rules (the message names the question) or the command line is wrong, 1 when the spec cannot
be read. Needs only Python's
standard library and coincurve; it loads salon/sealed/ next to it (as tools/verify_board.py does) without the
rest of Salon. `salon ballot seal` is the same on Salon's own command line. Protocol: docs/sealed-ballots.md."""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verify_board import load_sealed  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Seal a Salon ballot from the poll's seal spec.")
    parser.add_argument("spec", nargs="?", help="the seal spec's file (or the poll's JSON); - for stdin")
    parser.add_argument("--url", help="the API's poll address, e.g. https://…/api/v1/polls/7")
    parser.add_argument("--token", default=os.environ.get("SALON_API_TOKEN"),
                        help="the API token (default: $SALON_API_TOKEN)")
    parser.add_argument("--choose", help="option ids, separated by commas ('' for a blank ballot)")
    parser.add_argument("--answers", help="per-question lists of 0 and 1 as JSON, e.g. '[[0,1,0],[1,0]]'")
    parser.add_argument("--bare", action="store_true", help="print the ballot alone, not {\"sealed\": ballot}")
    args = parser.parse_args(argv)
    client = load_sealed("client")
    if (args.spec is None) == (args.url is None):
        parser.error("give the seal spec's file (or -) or --url, one of them")
    try:
        if args.url:
            spec = client.fetch_spec(args.url, args.token)
        elif args.spec == "-":
            spec = client.spec_from_text(sys.stdin.buffer.read(), "stdin")
        else:
            spec = client.spec_from_text(Path(args.spec).read_bytes(), args.spec)
    except OSError as error:
        print(f"seal_ballot.py: {args.spec}: {error.strerror}", file=sys.stderr)
        return 1
    except client.SpecError as error:
        print(f"seal_ballot.py: {error}", file=sys.stderr)
        return 1
    try:
        ballot = client.seal_ballot(spec, client.answers_from_text(spec, args.choose, args.answers))
    except client.InvalidChoice as error:
        print(f"seal_ballot.py: choices refused: {error}", file=sys.stderr)
        return 2
    print(json.dumps(ballot if args.bare else client.request_body(ballot), separators=(",", ":")))
    print(f"fingerprint (your receipt): {client.fingerprint(ballot)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
