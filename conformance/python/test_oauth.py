"""OAuth through the Python SDK: bearer tokens minted here with an RSA key made for the test,
passed as a TokenCredential; Lapis verifies their signature, issuer, audience and lifetime
against the keys and issuers of its --accountConfig, and authorizes by the roles it assigns.
The SDK sends tokens over https only, so the server runs with a certificate made here
(--cert/--key), as Azurite needs too (--oauth basic). Then Get User Delegation Key and a user
delegation SAS signed with its key.

Azurite decodes tokens without verifying them and knows no roles: what Lapis refuses for those
reasons are azurite_gap tests."""

import datetime
import ipaddress
import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (BlobClient, BlobSasPermissions, BlobServiceClient,
                                generate_blob_sas)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lapis_proc import Lapis  # noqa: E402

import helpers  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO / "conformance" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ISSUER = f"https://sts.windows.net/{TENANT}/"
READER = "0a000000-0000-0000-0000-00000000000a"
CONTRIBUTOR = "0b000000-0000-0000-0000-00000000000b"
NOBODY = "0d000000-0000-0000-0000-00000000000d"
KID = "test-key-1"


class StaticToken:
    """A TokenCredential (azure.core) that hands out one token."""

    def __init__(self, token, expires_on):
        self.token = token
        self.expires_on = expires_on

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, self.expires_on)


def _tls_files(folder):
    """A certificate authority and a server certificate for 127.0.0.1 that it signed."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lapis OAuth test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OAuthServer:
    """Lapis (or Azurite) over https with OAuth on, and the key that signs the test's tokens."""

    def __init__(self, target, folder):
        self.target = target
        tls = _tls_files(folder)
        self.ca = str(tls["ca"])
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        (folder / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
        config = {
            "accounts": {helpers.ACCOUNT: {"roles": {
                READER: ["Storage Blob Data Reader"],
                CONTRIBUTOR: ["Storage Blob Data Contributor"],
            }}},
            "oauth": {"keys": ["jwks.json"], "issuers": [ISSUER]},
        }
        (folder / "accounts.json").write_text(json.dumps(config))
        self.location = folder / "data"
        if target == "azurite":
            if not AZURITE_BIN.exists():
                raise RuntimeError(f"{AZURITE_BIN} missing: run npm install in conformance/azurite")
            port = _free_port()
            self.proc = subprocess.Popen(
                [str(AZURITE_BIN), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                 "--location", str(self.location), "--silent", "--skipApiVersionCheck", "--loose",
                 "--disableTelemetry", "--cert", str(tls["cert"]), "--key", str(tls["key"]),
                 "--oauth", "basic"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.1)
            self.blob_url = f"https://127.0.0.1:{port}/{helpers.ACCOUNT}"
            self.lapis = None
        else:
            self.location.mkdir()
            self.lapis = Lapis(self.location, extra_args=[
                "--cert", str(tls["cert"]), "--key", str(tls["key"]),
                "--accountConfig", str(folder / "accounts.json"), "--oauth", "basic"])
            self.blob_url = self.lapis.blob_url

    def stop(self):
        if self.lapis is not None:
            self.lapis.stop()
        else:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)

    def token(self, oid, key=None, **claims):
        now = int(time.time())
        body = {"aud": "https://storage.azure.com", "iss": ISSUER, "iat": now, "nbf": now - 60,
                "exp": now + 3600, "oid": oid, "tid": TENANT, **claims}
        token = jwt.encode(body, key or self.signing_key, algorithm="RS256", headers={"kid": KID})
        return StaticToken(token, body["exp"])

    def service(self, credential):
        return BlobServiceClient(self.blob_url, credential=credential, connection_verify=self.ca,
                                 retry_total=0)

    def shared_key_service(self):
        return BlobServiceClient(self.blob_url, credential={"account_name": helpers.ACCOUNT, "account_key": helpers.KEY},
                                 connection_verify=self.ca,
                                 retry_total=0)


@pytest.fixture(scope="module")
def server(target, tmp_path_factory):
    s = OAuthServer(target, tmp_path_factory.mktemp("oauth"))
    yield s
    s.stop()


@pytest.fixture
def container(server):
    name = f"oauth{uuid.uuid4().hex[:12]}"
    client = server.service(server.token(CONTRIBUTOR)).create_container(name)
    yield client
    server.shared_key_service().delete_container(name)


def _refused(call):
    with pytest.raises(HttpResponseError) as refused:
        call()
    return refused.value


def test_tokens_write_and_read(server, container):
    container.upload_blob("a.txt", b"over a token")
    reader = server.service(server.token(READER)).get_blob_client(container.container_name, "a.txt")
    assert reader.download_blob().readall() == b"over a token"
    names = [b.name for b in server.service(server.token(READER))
             .get_container_client(container.container_name).list_blobs()]
    assert names == ["a.txt"]


@pytest.mark.azurite_gap("Azurite knows no roles: any valid token may write")
def test_a_reader_cannot_write(server, container):
    reader = server.service(server.token(READER)).get_blob_client(container.container_name, "b.txt")
    err = _refused(lambda: reader.upload_blob(b"x"))
    assert (err.status_code, err.error_code) == (403, "AuthorizationPermissionMismatch")


@pytest.mark.azurite_gap("Azurite knows no roles: any valid token may read")
def test_an_identity_without_a_role_gets_nothing(server, container):
    container.upload_blob("c.txt", b"x")
    nobody = server.service(server.token(NOBODY)).get_blob_client(container.container_name, "c.txt")
    err = _refused(lambda: nobody.download_blob().readall())
    assert (err.status_code, err.error_code) == (403, "AuthorizationPermissionMismatch")


@pytest.mark.azurite_gap("Azurite does not verify token signatures")
def test_a_token_signed_with_another_key_is_refused(server, container):
    forged = server.service(server.token(CONTRIBUTOR, key=server.other_key))
    err = _refused(lambda: forged.get_container_client(container.container_name).get_container_properties())
    assert (err.status_code, err.error_code) == (401, "InvalidAuthenticationInfo")
    assert err.response.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


@pytest.mark.azurite_gap("Azurite accepts any issuer under sts.windows.net")
def test_an_issuer_not_configured_is_refused(server, container):
    other = server.service(server.token(CONTRIBUTOR, iss="https://sts.windows.net/another-tenant/"))
    err = _refused(lambda: other.get_container_client(container.container_name).get_container_properties())
    assert (err.status_code, err.error_code) == (401, "InvalidAuthenticationInfo")


@pytest.mark.azurite_gap("Azurite refuses with 403 AuthenticationFailed; Azure answers 401 InvalidAuthenticationInfo")
def test_another_audience_and_an_expired_token_are_refused(server, container):
    now = int(time.time())
    for token in (server.token(CONTRIBUTOR, aud="https://management.azure.com/"),
                  server.token(CONTRIBUTOR, exp=now - 3600)):
        client = server.service(token).get_container_client(container.container_name)
        err = _refused(client.get_container_properties)
        assert (err.status_code, err.error_code) == (401, "InvalidAuthenticationInfo")


def _delegation_key(server, oid):
    now = datetime.datetime.now(datetime.timezone.utc)
    return server.service(server.token(oid)).get_user_delegation_key(
        now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=1))


def test_user_delegation_sas_reads_a_blob(server, container):
    container.upload_blob("shared.txt", b"delegated")
    key = _delegation_key(server, READER)
    assert key.signed_oid == READER
    assert key.signed_tid == TENANT
    assert key.signed_service == "b"
    sas = generate_blob_sas(helpers.ACCOUNT, container.container_name, "shared.txt",
                            user_delegation_key=key, permission=BlobSasPermissions(read=True),
                            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30))
    blob = BlobClient.from_blob_url(f"{server.blob_url}/{container.container_name}/shared.txt?{sas}",
                                    connection_verify=server.ca, retry_total=0)
    assert blob.download_blob().readall() == b"delegated"


@pytest.mark.azurite_gap("Azurite knows no roles to bound a user delegation SAS")
def test_a_user_delegation_sas_cannot_exceed_its_keys_roles(server, container):
    key = _delegation_key(server, READER)
    sas = generate_blob_sas(helpers.ACCOUNT, container.container_name, "new.txt",
                            user_delegation_key=key,
                            permission=BlobSasPermissions(read=True, write=True, create=True),
                            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30))
    blob = BlobClient.from_blob_url(f"{server.blob_url}/{container.container_name}/new.txt?{sas}",
                                    connection_verify=server.ca, retry_total=0)
    err = _refused(lambda: blob.upload_blob(b"x"))
    assert (err.status_code, err.error_code) == (403, "AuthorizationPermissionMismatch")


@pytest.mark.azurite_gap("Azurite refuses it with 403 AuthorizationFailure; Azure's answer to a "
                         "signature that does not match is 403 AuthenticationFailed")
def test_a_user_delegation_sas_with_a_made_up_key_is_refused(server, container):
    container.upload_blob("guarded.txt", b"x")
    key = _delegation_key(server, READER)
    key.value = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    sas = generate_blob_sas(helpers.ACCOUNT, container.container_name, "guarded.txt",
                            user_delegation_key=key, permission=BlobSasPermissions(read=True),
                            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30))
    blob = BlobClient.from_blob_url(f"{server.blob_url}/{container.container_name}/guarded.txt?{sas}",
                                    connection_verify=server.ca, retry_total=0)
    err = _refused(lambda: blob.download_blob().readall())
    assert (err.status_code, err.error_code) == (403, "AuthenticationFailed")


def test_a_user_delegation_key_needs_a_token(server):
    now = datetime.datetime.now(datetime.timezone.utc)
    err = _refused(lambda: server.shared_key_service().get_user_delegation_key(
        now, now + datetime.timedelta(hours=1)))
    assert (err.status_code, err.error_code) == (403, "AuthenticationFailed")


def test_a_blob_batch_over_a_token(server, container):
    for name in ("x1", "x2"):
        container.upload_blob(name, b"x")
    container.delete_blobs("x1", "x2")
    assert list(container.list_blobs()) == []
