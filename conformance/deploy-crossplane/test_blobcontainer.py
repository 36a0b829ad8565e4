"""deploy/crossplane for real, as far as it runs without a cluster.

1. The manifests validate strictly: the CRD schemas in ../shared/k8s-schemas/ for Crossplane's and
   provider-http's kinds, and a schema made from our own XRD for the BlobContainer examples.
2. `crossplane render` (crank v2.2.1) renders the committed Composition for each example, with the
   committed Function manifest run as a local process (function-patch-and-transform v0.10.7, the
   pinned version) through render's Development runtime.
3. Each rendered Request is driven as provider-http v1.0.14 drives it (provider_http.py: its jq
   templating by gojq, its mapping lookup, its observe / create / remove flow, its checks) against a
   real Lapis on loopback, with an account SAS placed exactly where set-sas.sh places it; the Azure
   SDK confirms what happened in Lapis. The observed Request is rendered again, so the XR's status
   patches and readiness check run on Lapis's real answer.
"""

import json
import os
import re
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from azure.storage.blob._shared.shared_access_signature import SharedAccessSignature

from lapis_proc import ACCOUNT, KEY, Lapis, lapis_binary
from provider_http import JQError, ProviderHTTP

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEPLOY = ROOT / "deploy" / "crossplane"
SCHEMAS = ROOT.parent / "shared" / "k8s-schemas"
TOOLS = Path(os.environ.get("LAPIS_TOOLS", Path.home() / ".cache" / "lapis" / "tools"))
_pins = dict(re.findall(r"^(\w+_VERSION)=(\S+)$", (HERE / "install-tools.sh").read_text(), re.M))
CRANK = TOOLS / f"crank-{_pins['CRANK_VERSION']}" / "crank"
PAT = TOOLS / f"function-patch-and-transform-{_pins['PAT_VERSION']}" / "function-patch-and-transform"
GOJQ = TOOLS / f"gojq-{_pins['GOJQ_VERSION']}" / "gojq"
KUBECONFORM = TOOLS / f"kubeconform-{_pins['KUBECONFORM_VERSION']}" / "kubeconform"

EXAMPLES = {d["metadata"]["name"]: d for p in sorted((DEPLOY / "examples").glob("*.yaml"))
            for d in yaml.safe_load_all(p.read_text()) if d}


def load(path):
    return [d for d in yaml.safe_load_all(Path(path).read_text()) if d]


def sas_json_patch_path():
    """The JSON-patch path set-sas.sh writes the SAS URL to: the test writes there too, so a
    Composition change that moves the field breaks this test instead of the owner's rotation."""
    m = re.search(r'"path": "([^"]+)"', (DEPLOY / "set-sas.sh").read_text())
    assert m, "set-sas.sh has no JSON patch path"
    return m.group(1)


def set_sas(composition: dict, service_sas_url: str) -> dict:
    """What set-sas.sh's `kubectl patch --type=json` op "replace" does."""
    parts = sas_json_patch_path().strip("/").split("/")
    node = composition
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert parts[-1] in node, f"{sas_json_patch_path()} does not exist in the Composition"
    node[parts[-1]] = service_sas_url
    return composition


def account_sas(services="b", resource_types="c", permission="rcd", ip="127.0.0.1", expiry=None):
    expiry = expiry or datetime.now(timezone.utc) + timedelta(hours=1)
    return SharedAccessSignature(ACCOUNT, KEY).generate_account(
        services, resource_types, permission, expiry, ip=ip, protocol="https,http")


# ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tools():
    missing = [str(t) for t in (CRANK, PAT, GOJQ, KUBECONFORM) if not t.exists()]
    assert not missing, f"run conformance/deploy-crossplane/install-tools.sh first: missing {missing}"


@pytest.fixture(scope="session")
def lapis(tmp_path_factory):
    if not Path(lapis_binary()).exists():
        pytest.fail(f"no lapis binary at {lapis_binary()}")
    server = Lapis(tmp_path_factory.mktemp("lapis") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def blob_service(lapis):
    return BlobServiceClient.from_connection_string(lapis.blob_conn_str)


@pytest.fixture(scope="session")
def function_address(tools, tmp_path_factory):
    """function-patch-and-transform as a local gRPC server: render's Development runtime."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("fn") / "function.log", "wb")
    proc = subprocess.Popen([str(PAT), "--insecure", f"--address=127.0.0.1:{port}"], stdout=log, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, "function-patch-and-transform exited"
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def render(function_address, tmp_path):
    """crossplane render <xr> <composition> deploy/crossplane/function-patch-and-transform.yaml,
    with the XRD (render validates the XR and applies its defaults) and optional observed resources."""
    counter = iter(range(1000))

    def run(xr: dict, composition: dict, observed: list | None = None) -> list:
        n = next(counter)
        xr_path, comp_path = tmp_path / f"xr-{n}.yaml", tmp_path / f"composition-{n}.yaml"
        xr_path.write_text(yaml.safe_dump(xr))
        comp_path.write_text(yaml.safe_dump(composition))
        args = [str(CRANK), "render", str(xr_path), str(comp_path), str(DEPLOY / "function-patch-and-transform.yaml"),
                "--xrd", str(DEPLOY / "xrd.yaml"), "--include-full-xr", "--include-function-results",
                "--function-annotations", "render.crossplane.io/runtime=Development",
                "--function-annotations", f"render.crossplane.io/runtime-development-target={function_address}"]
        if observed:
            obs_path = tmp_path / f"observed-{n}.yaml"
            obs_path.write_text(yaml.safe_dump_all(observed))
            args += ["--observed-resources", str(obs_path)]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"crossplane render failed:\n{proc.stderr}"
        out = [d for d in yaml.safe_load_all(proc.stdout) if d]
        # The function reports a failed patch or readiness check as a warning, not an error.
        results = [d for d in out if d["kind"] == "Result"]
        assert all(r.get("severity") not in ("SEVERITY_WARNING", "SEVERITY_FATAL") for r in results), results
        return [d for d in out if d["kind"] != "Result"]

    return run


def composition_with(sas_url: str) -> dict:
    (composition,) = load(DEPLOY / "composition.yaml")
    return set_sas(composition, sas_url)


def split(rendered):
    xrs = [d for d in rendered if d["kind"] == "BlobContainer"]
    requests_ = [d for d in rendered if d["kind"] == "Request"]
    assert len(xrs) == 1 and len(requests_) == 1, [d["kind"] for d in rendered]
    return xrs[0], requests_[0]


def condition(obj, kind):
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), None)


# --- 1. schemas ------------------------------------------------------------------------------------
def xrd_schema_dir(tmp_path) -> Path:
    """The BlobContainer schema as Crossplane serves it (the XRD's openAPIV3Schema), made strict the
    way shared/k8s-schemas/README.md converts CRDs: additionalProperties false under every
    `properties`, the root left open."""
    (xrd,) = load(DEPLOY / "xrd.yaml")

    def strict(node, skip=False):
        if isinstance(node, dict):
            if "properties" in node and not skip and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for v in node.values():
                strict(v)

    out = tmp_path / "schemas" / xrd["spec"]["group"]
    out.mkdir(parents=True)
    for ver in xrd["spec"]["versions"]:
        schema = ver["schema"]["openAPIV3Schema"]
        strict(schema, skip=True)
        (out / f"{xrd['spec']['names']['kind'].lower()}_{ver['name']}.json").write_text(json.dumps(schema))
    return out.parent


def kubeconform(tmp_path, files):
    own = xrd_schema_dir(tmp_path)
    # Namespace and Secret are core kinds: deploy/check validates them against Kubernetes' schemas.
    proc = subprocess.run(
        [str(KUBECONFORM), "-strict", "-verbose", "-output", "json", "-skip", "Namespace,Secret",
         "-schema-location", str(SCHEMAS) + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
         "-schema-location", str(own) + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
         *map(str, files)], capture_output=True, text=True)
    return proc.returncode, json.loads(proc.stdout)


def test_manifests_validate_strictly(tools, tmp_path):
    files = sorted(DEPLOY.glob("*.yaml")) + sorted((DEPLOY / "examples").glob("*.yaml"))
    rc, report = kubeconform(tmp_path, files)
    assert rc == 0, report
    valid = sorted(r["kind"] for r in report["resources"] if r["status"] == "statusValid")
    assert valid == sorted(["BlobContainer"] * 3 + ["ClusterProviderConfig", "Composition", "CompositeResourceDefinition",
                            "DeploymentRuntimeConfig", "DeploymentRuntimeConfig", "Function", "HelmChart", "Provider"])


def test_xrd_schema_refuses_a_bad_container_name(tools, tmp_path):
    bad = dict(EXAMPLES["site"], spec={"containerName": "Site--1", "publicAccess": "blob"})
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    rc, report = kubeconform(tmp_path, [tmp_path / "bad.yaml"])
    assert rc != 0 and report["resources"][0]["status"] == "statusInvalid", report


# --- 2. render -------------------------------------------------------------------------------------
def test_render_composes_one_request_per_blobcontainer(render):
    xr, req = split(render(EXAMPLES["site"], composition_with("http://127.0.0.1:1/devstoreaccount1?sig=x")))
    assert req["apiVersion"] == "http.m.crossplane.io/v1alpha2"
    assert req["metadata"]["namespace"] == "lapis"
    assert req["metadata"]["annotations"]["crossplane.io/composition-resource-name"] == "container"
    fp = req["spec"]["forProvider"]
    assert json.loads(fp["payload"]["body"]) == {"container": "site", "publicAccess": "blob"}
    assert [(m["action"], m["method"]) for m in fp["mappings"]] == [("CREATE", "PUT"), ("OBSERVE", "GET"), ("REMOVE", "DELETE")]
    assert req["spec"]["providerConfigRef"] == {"kind": "ClusterProviderConfig", "name": "default"}
    # Nothing observed yet: the XR is not ready and has no observed state.
    assert condition(xr, "Ready")["status"] == "False"
    assert "etag" not in xr.get("status", {})


def test_render_applies_the_xrd_default(render):
    xr = dict(EXAMPLES["azure-webjobs-hosts"], spec={"containerName": "azure-webjobs-hosts"})
    _, req = split(render(xr, composition_with("http://127.0.0.1:1/devstoreaccount1?sig=x")))
    assert json.loads(req["spec"]["forProvider"]["payload"]["body"])["publicAccess"] == "none"


# --- 3. provider-http against Lapis ---------------------------------------------------------------
def sas_url(lapis, **kw):
    return f"{lapis.blob_url}?{account_sas(**kw)}"


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_create_observe_remove_against_lapis(example, render, lapis, blob_service):
    xr_in = EXAMPLES[example]
    name, access = xr_in["spec"]["containerName"], xr_in["spec"]["publicAccess"]
    composition = composition_with(sas_url(lapis))
    _, req = split(render(xr_in, composition))
    p = ProviderHTTP(str(GOJQ))
    container = blob_service.get_container_client(name)

    # First poll: nothing created yet, Lapis answers 404 -> the managed reconciler calls Create.
    first = p.observe(req)
    assert not first["exists"] and first["response"].status_code == 404

    created = p.deploy(req, "CREATE")
    assert created.status_code == 201, created.body
    props = container.get_container_properties()
    assert (props.public_access or "none") == access

    # Next poll: the container answers 200 with the public access asked for -> exists, up to date.
    seen = p.observe(req)
    assert seen["exists"] and seen["upToDate"]
    assert seen["response"].headers["Etag"] == [props.etag]

    # Crossplane feeds the observed Request back to the function: the XR's status comes from
    # Lapis's answer and the readiness check passes.
    xr, _ = split(render(xr_in, composition, observed=[req]))
    assert xr["status"]["etag"] == props.etag
    assert xr["status"]["lastModified"] == seen["response"].headers["Last-Modified"][0]
    assert xr["status"]["ready"] is True
    assert xr["status"].get("publicAccess", "none") == access
    assert condition(xr, "Ready")["status"] == "True", yaml.safe_dump(xr)

    # Delete: REMOVE, then polls until isRemovedCheck sees Lapis's 404 ContainerNotFound.
    removed = p.deploy(req, "REMOVE")
    assert removed.status_code == 202, removed.body
    gone = p.observe(req)
    assert not gone["exists"]
    assert gone["response"].status_code == 404
    assert p.is_removed(req["spec"]["forProvider"], gone["response"])
    with pytest.raises(ResourceNotFoundError):
        container.get_container_properties()

    # Every request: the SAS in the URL, the API version sent, no "null" (which would make
    # provider-http retry with its cached response instead).
    assert [s.method for s in p.sent] == ["GET", "PUT", "GET", "DELETE", "GET"]
    for s in p.sent:
        assert s.url.startswith(f"{lapis.blob_url}/{name}?restype=container&") and "sig=" in s.url
        assert s.headers["x-ms-version"] == ["2025-01-05"]
        assert "null" not in repr((s.url, s.headers, s.body))
    assert p.sent[1].headers["x-ms-blob-public-access"] == ["" if access == "none" else access]


def test_a_container_that_exists_is_adopted_not_recreated(render, lapis, blob_service):
    blob_service.create_container("azure-webjobs-secrets")
    try:
        _, req = split(render(EXAMPLES["azure-webjobs-secrets"], composition_with(sas_url(lapis))))
        p = ProviderHTTP(str(GOJQ))
        seen = p.observe(req)
        assert seen["exists"] and seen["upToDate"]
        assert [s.method for s in p.sent] == ["GET"]
    finally:
        blob_service.delete_container("azure-webjobs-secrets")


def test_public_access_drift_is_reported_not_fixed(render, lapis, blob_service):
    _, req = split(render(EXAMPLES["site"], composition_with(sas_url(lapis))))
    p = ProviderHTTP(str(GOJQ))
    assert p.deploy(req, "CREATE").status_code == 201
    try:
        # Someone makes it private with the account key.
        blob_service.get_container_client("site").set_container_access_policy(signed_identifiers={}, public_access=None)
        seen = p.observe(req)
        assert seen["exists"] and not seen["upToDate"]
        # No UPDATE mapping (a SAS cannot set a container's ACL): provider-http falls back to the
        # mapping with UPDATE's default method, PUT, i.e. CREATE, which Lapis refuses.
        update = p.deploy(req, "UPDATE")
        assert update.status_code == 409 and update.headers["X-Ms-Error-Code"] == ["ContainerAlreadyExists"]
        assert blob_service.get_container_client("site").get_container_properties().public_access is None
        # The owner sees it: the BlobContainer is no longer ready.
        xr, _ = split(render(EXAMPLES["site"], composition_with(sas_url(lapis)), observed=[req]))
        assert condition(xr, "Ready")["status"] == "False" and xr["status"]["ready"] is False
    finally:
        blob_service.delete_container("site")


def test_an_expired_sas_is_not_taken_for_a_deleted_container(render, lapis, blob_service):
    composition = composition_with(sas_url(lapis))
    _, req = split(render(EXAMPLES["site"], composition))
    p = ProviderHTTP(str(GOJQ))
    assert p.deploy(req, "CREATE").status_code == 201
    try:
        expired = sas_url(lapis, expiry=datetime.now(timezone.utc) - timedelta(minutes=5))
        _, stale = split(render(EXAMPLES["site"], composition_with(expired)))
        stale["status"] = req["status"]
        seen = p.observe(stale)
        assert seen["response"].status_code == 403
        # Exists (so no Create, no finalizer removal), not up to date: the owner sees the 403.
        assert seen["exists"] and not seen["upToDate"]
    finally:
        blob_service.delete_container("site")


@pytest.mark.parametrize("sas, action, code", [
    (dict(permission="rd"), "CREATE", "AuthorizationPermissionMismatch"),
    (dict(permission="cd"), "OBSERVE", "AuthorizationPermissionMismatch"),
    (dict(permission="rc"), "REMOVE", "AuthorizationPermissionMismatch"),
    (dict(resource_types="so"), "CREATE", "AuthorizationResourceTypeMismatch"),
    (dict(services="q"), "CREATE", "AuthorizationServiceMismatch"),
    (dict(ip="10.42.0.1"), "CREATE", "AuthorizationSourceIPMismatch"),
], ids=["no-c", "no-r", "no-d", "srt-without-c", "queue-only", "other-ip"])
def test_the_sas_needs_each_of_its_grants(sas, action, code, render, lapis, blob_service):
    """ss=b, srt=c, sp=rcd and sip are each needed: take one away and Lapis refuses the operation
    that needs it (the lifecycle test shows the full SAS suffices)."""
    _, req = split(render(EXAMPLES["site"], composition_with(sas_url(lapis, **sas))))
    p = ProviderHTTP(str(GOJQ))
    if action != "CREATE":
        blob_service.create_container("site")
    try:
        resp = p.observe(req)["response"] if action == "OBSERVE" else p.deploy(req, action)
        assert resp.status_code == 403, resp.body
        assert resp.headers["X-Ms-Error-Code"] == [code]
    finally:
        try:
            blob_service.delete_container("site")
        except ResourceNotFoundError:
            pass


def test_the_committed_placeholder_sas_is_refused(render, lapis, blob_service):
    """Until set-sas.sh runs, the Requests carry `?sas=unset`: Lapis refuses them, nothing is made."""
    (composition,) = load(DEPLOY / "composition.yaml")
    _, req = split(render(EXAMPLES["site"], set_sas(composition, composition_placeholder(composition, lapis))))
    resp = ProviderHTTP(str(GOJQ)).deploy(req, "CREATE")
    assert not 200 <= resp.status_code < 300
    with pytest.raises(ResourceNotFoundError):
        blob_service.get_container_client("site").get_container_properties()


def composition_placeholder(composition, lapis):
    """The committed baseUrl, pointed at the test's Lapis instead of the in-cluster Service."""
    node = composition
    for part in sas_json_patch_path().strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert node.startswith("http://lapis.lapis.svc:10000/devstoreaccount1?")
    return node.replace("http://lapis.lapis.svc:10000/devstoreaccount1", lapis.blob_url)


# --- provider-http's jq rules the Composition depends on (gojq, the provider's own jq) -------------
def test_header_values_are_jq_and_must_yield_strings(tools):
    p = ProviderHTTP(str(GOJQ))
    # A bare date parses as arithmetic (2025-1-5): a number, which fails the whole request.
    with pytest.raises(JQError):
        p.parse_map_strings({"x-ms-version": ["2025-01-05"]}, {})
    assert p.parse_map_strings({"x-ms-version": ['"2025-01-05"']}, {}) == {"x-ms-version": ["2025-01-05"]}
    # What does not parse as jq is sent as written.
    assert p.parse_map_strings({"accept": ["application/xml; q=1"]}, {}) == {"accept": ["application/xml; q=1"]}
