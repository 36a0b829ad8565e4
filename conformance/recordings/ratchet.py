"""The ratchet file: recordings known to agree, one name per line ('#' starts a comment)."""

import os


def read_ratchet(path: str) -> list[str]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        names = [line.split("#", 1)[0].strip() for line in f]
    return [n for n in names if n]


def check_ratchet(listed: list[str], outcomes: dict) -> list[str]:
    """Listed recordings that were run in this invocation and did not agree."""
    return [n for n in listed if n in outcomes and outcomes[n].kind != "agrees"]


def write_ratchet(path: str, listed: list[str], outcomes: dict, prune: bool) -> tuple[int, int]:
    """Adds newly agreeing recordings; removes listed non-agreeing ones only when pruning.
    Returns (added, removed)."""
    keep = [n for n in listed if not (prune and n in outcomes and outcomes[n].kind != "agrees")]
    new = sorted(n for n, o in outcomes.items() if o.kind == "agrees" and n not in listed)
    names = sorted(set(keep) | set(new))
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{n}\n" for n in names))
    return len(new), len(listed) - len(keep)
