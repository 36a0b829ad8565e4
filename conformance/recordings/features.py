"""Which features each recorded request uses, from its URL, method and headers."""

from urllib.parse import parse_qsl, urlsplit

PREMIUM_TIERS = {"p4", "p6", "p10", "p15", "p20", "p30", "p40", "p50", "p60", "p70", "p80"}
# comp= values and the feature each one belongs to.
COMP_FEATURES = {
    "appendblock": "append-blob",
    "seal": "append-blob",
    "page": "page-blob",
    "pagelist": "page-blob",
    "incrementalcopy": "page-blob",
    "lease": "lease",
    "snapshot": "snapshot",
    "copy": "copy",
    "tags": "tags",
    "batch": "batch",
    "expiry": "expiry",
    "undelete": "soft-delete",
    "tier": "tier",
    "immutabilitypolicies": "immutability",
    "legalhold": "legal-hold",
    "userdelegationkey": "user-delegation",
    "stats": "secondary",
    "blobs": "tags",  # Find Blobs by Tags
    "query": "query",
    "acl": "container-acl",
}


def request_features(url: str, method: str, headers: dict[str, str]) -> set[str]:
    parts = urlsplit(url)
    query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    h = {k.lower(): str(v) for k, v in headers.items()}
    found: set[str] = set()
    if "-secondary." in parts.netloc:
        found.add("secondary")
    if ".table." in parts.netloc:
        found.add("table")
        if parts.path.rstrip("/").endswith("$batch"):
            found.add("table-batch")
        return found

    comp = query.get("comp", "").lower()
    if comp in COMP_FEATURES:
        found.add(COMP_FEATURES[comp])
    if "snapshot" in query:
        found.add("snapshot")
    if "versionid" in query:
        found.add("versioning")
    include = query.get("include", "").lower()
    if "snapshots" in include:
        found.add("snapshot")
    if "versions" in include:
        found.add("versioning")
    if "deleted" in include:
        found.add("soft-delete")
    if "tags" in include:
        found.add("tags")

    blob_type = h.get("x-ms-blob-type", "").lower()
    if blob_type == "appendblob" or "x-ms-blob-condition-appendpos" in h or "x-ms-blob-condition-maxsize" in h:
        found.add("append-blob")
    if blob_type == "pageblob" or "x-ms-sequence-number-action" in h or "x-ms-page-write" in h \
            or any(k.startswith("x-ms-if-sequence-number") for k in h):
        found.add("page-blob")
    # Set Blob Properties with a content length is Resize, a page blob operation.
    if comp == "properties" and "x-ms-blob-content-length" in h and "restype" not in query:
        found.add("page-blob")
    if "x-ms-encryption-key" in h:
        found.add("cpk")
    if "x-ms-encryption-scope" in h or "x-ms-default-encryption-scope" in h:
        found.add("encryption-scope")
    if "x-ms-expiry-option" in h:
        found.add("expiry")
    if "x-ms-lease-id" in h or "x-ms-lease-action" in h:
        found.add("lease")
    if "x-ms-copy-source" in h or "x-ms-copy-action" in h:
        found.add("copy")
    if "x-ms-tags" in h or "x-ms-if-tags" in h:
        found.add("tags")
    if "x-ms-delete-snapshots" in h:
        found.add("snapshot")
    if "x-ms-deleted-container-name" in h:
        found.add("soft-delete")
    if any(k.startswith("x-ms-immutability-policy") for k in h):
        found.add("immutability")
    if "x-ms-legal-hold" in h:
        found.add("legal-hold")
    tier = h.get("x-ms-access-tier", "").lower()
    if tier:
        found.add("tier")
    if tier == "archive" or "x-ms-rehydrate-priority" in h:
        found.add("archive")
    if tier in PREMIUM_TIERS:
        found.add("premium-page-tier")
    if h.get("authorization", "").lower().startswith("bearer"):
        found.add("user-delegation")
    if "sig" in query and ("skoid" in query or "sduid" in query):
        found.add("user-delegation")
    return found


def recording_features(entries: list[dict]) -> set[str]:
    found: set[str] = set()
    for entry in entries:
        found |= request_features(entry["RequestUri"], entry["RequestMethod"], entry["RequestHeaders"])
    if not entries:
        found.add("no-requests")
    return found


def missing_features(used: set[str], claimed: dict[str, bool]) -> list[str]:
    """Features the recording needs that the emulator does not claim (unknown = not claimed)."""
    return sorted(f for f in used if not claimed.get(f, False))
