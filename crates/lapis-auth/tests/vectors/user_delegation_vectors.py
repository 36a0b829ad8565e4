"""Prints the user delegation SAS vectors of tests/user_delegation.rs: a user delegation key whose
value Lapis derives (HMAC-SHA256 of the account key over the key's fields), and SAS the Python SDK
(azure-storage-blob 12.31) signs with it."""

import base64
import hashlib
import hmac

from azure.storage.blob import UserDelegationKey, generate_blob_sas, generate_container_sas

ACCOUNT_KEY = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")

key = UserDelegationKey()
key.signed_oid = "11111111-2222-3333-4444-555555555555"
key.signed_tid = "72f988bf-0000-0000-0000-2d7cd011db47"
key.signed_start = "2026-06-01T00:00:00Z"
key.signed_expiry = "2026-06-02T00:00:00Z"
key.signed_service = "b"
key.signed_version = "2026-10-06"
fields = ["lapis user delegation key", key.signed_oid, key.signed_tid, key.signed_start,
          key.signed_expiry, key.signed_service, key.signed_version]
key.value = base64.b64encode(
    hmac.new(ACCOUNT_KEY, "\n".join(fields).encode(), hashlib.sha256).digest()).decode()
print("value", key.value)
print("blob", generate_blob_sas("devstoreaccount1", "cont", "dir/a b.txt", user_delegation_key=key,
                                permission="rw", start="2026-06-01T10:00:00Z",
                                expiry="2026-06-01T18:00:00Z"))
print("container", generate_container_sas("devstoreaccount1", "cont", user_delegation_key=key,
                                          permission="rl", expiry="2026-06-01T18:00:00Z"))
