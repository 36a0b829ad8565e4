#!/usr/bin/env python3
"""Replays the Azure SDK for Go recordings of real Azure Storage against an emulator and
checks each response's status code and error code against what Azure answered.

    python3 conformance/recordings/replay.py --endpoint http://127.0.0.1:PORT \
        --account devstoreaccount1 --key <b64> [--table-endpoint URL] [--only blob|table] \
        [--filter substring] [--verbose] [--strict] [--all-features] \
        [--ratchet conformance/recordings/agreeing.txt] [--update-ratchet] [--prune]

See README.md in this folder for how recorded requests are rewritten.
"""

# Features the emulator claims. A recording that uses any feature set to False (or not
# listed) is reported OUT-OF-SCOPE instead of replayed. Flip to True as features land.
FEATURES = {
    # in scope now
    "container-acl": True,
    "append-blob": True,
    "tags": True,
    # not yet claimed
    "append-blob": True,
    "page-blob": True,
    "lease": True,
    "snapshot": True,
    "copy": True,
    "tags": True,
    "batch": True,
    "tier": True,
    "soft-delete": True,
    "versioning": True,
    "query": False,
    "table": True,
    "table-batch": True,
    # Azure-only: an emulator is not expected to offer these
    "cpk": True,
    "encryption-scope": False,
    "expiry": False,
    "archive": False,
    "premium-page-tier": False,
    "secondary": False,
    "immutability": False,
    "legal-hold": False,
    "user-delegation": False,
    "sas-resign": False,
}

import argparse
from pathlib import Path
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from features import missing_features, recording_features  # noqa: E402
from live import LiveClient, Outcome, replay_recording  # noqa: E402
from ratchet import check_ratchet, read_ratchet, write_ratchet  # noqa: E402
from rewrite import Endpoints  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
def _default_recordings() -> str:
    """shared/ sits beside the checkout (in CI too); /work/shared is this workplace's copy."""
    beside = Path(__file__).resolve().parents[3] / "shared" / "azure-recordings"
    return str(beside) if beside.is_dir() else "/work/shared/azure-recordings"


DEFAULT_RECORDINGS = _default_recordings()


def recording_name(root: str, path: str) -> str:
    """'blob/Test/TestX.json' -> 'blob/TestX'; 'table/TestX/TestX_storage.json' -> 'table/TestX_storage'."""
    service = os.path.relpath(path, root).split(os.sep)[0]
    return f"{service}/{os.path.splitext(os.path.basename(path))[0]}"


def find_recordings(root: str, only: str | None, needle: str | None) -> list[tuple[str, str]]:
    found = []
    for path in glob.glob(os.path.join(root, "**", "*.json"), recursive=True):
        name = recording_name(root, path)
        if only and not name.startswith(only + "/"):
            continue
        if needle and needle.lower() not in name.lower():
            continue
        found.append((name, path))
    return sorted(found)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True, help="blob endpoint, e.g. http://127.0.0.1:10000")
    p.add_argument("--table-endpoint", help="table endpoint (default: --endpoint)")
    p.add_argument("--account", default="devstoreaccount1")
    p.add_argument("--key", required=True, help="base64 account key")
    p.add_argument("--recordings", default=DEFAULT_RECORDINGS)
    p.add_argument("--only", choices=["blob", "table"])
    p.add_argument("--filter", help="only recordings whose name contains this substring")
    p.add_argument("--verbose", action="store_true", help="print every entry of every replayed recording")
    p.add_argument("--strict", action="store_true", help="also compare the presence of key response headers")
    p.add_argument("--all-features", action="store_true",
                   help="replay every recording as if all features were claimed (for tool development)")
    p.add_argument("--ratchet", help="file of recordings that must agree")
    p.add_argument("--update-ratchet", action="store_true", help="add newly agreeing recordings to --ratchet")
    p.add_argument("--prune", action="store_true", help="with --update-ratchet, drop listed ones that no longer agree")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    endpoints = Endpoints(args.endpoint, args.table_endpoint or args.endpoint, args.account)
    client = LiveClient(endpoints, args.key, args.timeout)
    claimed = {k: True for k in FEATURES} if args.all_features else FEATURES
    outcomes: dict[str, Outcome] = {}
    started = time.monotonic()

    for name, path in find_recordings(args.recordings, args.only, args.filter):
        with open(path, encoding="utf-8") as f:
            entries = json.load(f).get("Entries", [])
        missing = missing_features(recording_features(entries), claimed)
        if args.all_features:
            missing = [m for m in missing if m == "no-requests"]
        if missing:
            outcome = Outcome("out-of-scope", f"features: {', '.join(missing)}")
        else:
            outcome = replay_recording(client, entries, strict=args.strict, verbose=args.verbose)
        outcomes[name] = outcome
        print(outcome.line(name), flush=True)
    client.close()

    agree = sum(o.kind == "agrees" for o in outcomes.values())
    differ = sum(o.kind == "differs" for o in outcomes.values())
    out = sum(o.kind == "out-of-scope" for o in outcomes.values())
    in_scope = agree + differ
    pct = 100.0 * agree / in_scope if in_scope else 0.0
    print(f"\nTOTAL {len(outcomes)}: {agree} agree, {differ} differ, {out} out of scope; "
          f"{pct:.1f}% of in-scope agree ({time.monotonic() - started:.1f}s)")

    status = 0
    if args.ratchet:
        listed = read_ratchet(args.ratchet)
        broken = check_ratchet(listed, outcomes)
        for name in broken:
            print(f"RATCHET BROKEN {name}: listed in {args.ratchet} but {outcomes[name].kind}")
        if args.update_ratchet:
            added, removed = write_ratchet(args.ratchet, listed, outcomes, prune=args.prune)
            print(f"ratchet: {added} added, {removed} removed")
        if broken and not (args.update_ratchet and args.prune):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
