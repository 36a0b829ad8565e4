#!/usr/bin/env bash
# Copies the blob service SAS URL from the owner's Secret crossplane-system/lapis-crossplane-sas
# (key serviceSasUrl) into the BlobContainer Composition's payload.baseUrl. provider-http cannot
# read a Secret into a URL, so this copy is how the SAS reaches the Requests; run it after applying
# composition.yaml and after each rotation (README.md). Crossplane then re-renders every
# BlobContainer and provider-http uses the new URL on its next poll.
set -euo pipefail
url=$(kubectl -n crossplane-system get secret lapis-crossplane-sas -o jsonpath='{.data.serviceSasUrl}' | base64 -d)
case $url in
  http://*\?*sig=*|https://*\?*sig=*) ;;
  *) echo "serviceSasUrl must be <service root>/<account>?<SAS with sig=...>" >&2; exit 1 ;;
esac
# The path is the base of the only composed resource (composition.yaml); JSON patch keeps the
# value out of the command line of anything but kubectl.
patch=$(URL=$url python3 -c 'import json, os; print(json.dumps([{"op": "replace",
  "path": "/spec/pipeline/0/input/resources/0/base/spec/forProvider/payload/baseUrl", "value": os.environ["URL"]}]))')
kubectl patch composition blobcontainers.storage.homelab.lan --type=json --patch-file=/dev/stdin <<<"$patch"
