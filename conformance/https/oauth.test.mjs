// OAuth through the JS SDK: bearer tokens minted here (RS256, node:crypto) with the private key
// run.sh made, handed to BlobServiceClient as a TokenCredential. Lapis verifies them against the
// public keys and issuer of its --accountConfig and authorizes by the roles that file gives the
// made-up object ids run.sh passes (LAPIS_OAUTH_*). Then Get User Delegation Key and a user
// delegation SAS signed with it. Azure's answers: a token it cannot trust is 401
// InvalidAuthenticationInfo with a Bearer challenge; a trusted token whose roles do not allow the
// operation, or a SAS whose letters do not, is 403 AuthorizationPermissionMismatch.
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";

const require = createRequire(new URL("../js/package.json", import.meta.url));
const {
  AnonymousCredential,
  BlobClient,
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
} = require("@azure/storage-blob");

const ENV = [
  "LAPIS_HTTPS_CONNECTION_STRING",
  "LAPIS_OAUTH_RSA_KEY",
  "LAPIS_OAUTH_ISSUER",
  "LAPIS_OAUTH_TENANT",
  "LAPIS_OAUTH_CONTRIBUTOR",
  "LAPIS_OAUTH_READER",
  "LAPIS_OAUTH_NOBODY",
];
const missing = ENV.filter((name) => !process.env[name]);
if (missing.length > 0) {
  // A suite that silently skips looks green in CI; refuse to run instead.
  throw new Error(`${missing.join(", ")} not set: run conformance/https/run.sh`);
}
const env = (name) => process.env[`LAPIS_OAUTH_${name}`];
const ACCOUNT = "devstoreaccount1";
// The account's blob endpoint, https://127.0.0.1:<port>/devstoreaccount1.
const ACCOUNT_URL = /BlobEndpoint=([^;]+)/.exec(process.env.LAPIS_HTTPS_CONNECTION_STRING)[1];
const SIGNING_KEY = createPrivateKey(readFileSync(env("RSA_KEY")));
// A key Lapis was never given.
const STRANGER_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
const options = { retryOptions: { maxTries: 1 } };
const unique = (prefix) => `${prefix}${randomBytes(6).toString("hex")}`;

const base64url = (data) => Buffer.from(data).toString("base64url");

// An RS256 JWT as Microsoft Entra ID issues for Storage; `claims` overrides or adds claims.
function jwt(oid, { key = SIGNING_KEY, ...claims } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "RS256", typ: "JWT" };
  const body = {
    aud: "https://storage.azure.com",
    iss: env("ISSUER"),
    iat: now,
    nbf: now - 60,
    exp: now + 3600,
    oid,
    tid: env("TENANT"),
    ...claims,
  };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(body))}`;
  return `${signed}.${base64url(sign("sha256", Buffer.from(signed), key))}`;
}

// A TokenCredential handing out one token. Its expiry for the SDK is an hour away whatever the
// token's `exp` says, so the SDK sends an expired token as it is and Lapis has to refuse it.
function credential(token) {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

const service = (oid, claims) =>
  new BlobServiceClient(ACCOUNT_URL, credential(jwt(oid, claims)), options);

async function refused(call) {
  try {
    await call();
  } catch (err) {
    return err;
  }
  assert.fail("the request succeeded");
}

let container; // created by the Contributor, with a.txt in it
before(async () => {
  container = service(env("CONTRIBUTOR")).getContainerClient(unique("oauth"));
  await container.create();
  await container.getBlockBlobClient("a.txt").upload("over a token", 12);
});
after(async () => {
  await service(env("CONTRIBUTOR")).getContainerClient(container.containerName).delete();
});

test("a Contributor token uploads, downloads and lists", async () => {
  const client = service(env("CONTRIBUTOR")).getContainerClient(container.containerName);
  const blob = client.getBlockBlobClient("contributed.txt");
  await blob.upload("written by a contributor", 24);
  assert.equal((await blob.downloadToBuffer()).toString(), "written by a contributor");
  const names = [];
  for await (const item of client.listBlobsFlat()) names.push(item.name);
  assert.deepEqual(names, ["a.txt", "contributed.txt"]);
});

test("a Reader token reads but cannot write", async () => {
  const client = service(env("READER")).getContainerClient(container.containerName);
  assert.equal((await client.getBlobClient("a.txt").downloadToBuffer()).toString(), "over a token");
  const err = await refused(() => client.getBlockBlobClient("r.txt").upload("x", 1));
  assert.equal(err.statusCode, 403);
  assert.equal(err.code, "AuthorizationPermissionMismatch");
});

test("an identity without a role gets nothing", async () => {
  const blob = service(env("NOBODY")).getContainerClient(container.containerName).getBlobClient("a.txt");
  // download() is one GET; downloadToBuffer() would start with a HEAD, whose answer has no body.
  const err = await refused(() => blob.download());
  assert.equal(err.statusCode, 403);
  assert.equal(err.code, "AuthorizationPermissionMismatch");
});

for (const [what, claims] of [
  ["a token signed by a key Lapis does not know", { key: STRANGER_KEY }],
  ["an expired token", { nbf: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }],
  ["a token for another audience", { aud: "https://management.azure.com/" }],
  ["a token from an issuer not listed", { iss: "https://sts.windows.net/another-tenant/" }],
]) {
  test(`${what} is 401 InvalidAuthenticationInfo with a Bearer challenge`, async () => {
    const client = service(env("CONTRIBUTOR"), claims).getContainerClient(container.containerName);
    const err = await refused(() => client.getProperties());
    assert.equal(err.statusCode, 401);
    assert.equal(err.code, "InvalidAuthenticationInfo");
    assert.match(
      err.response.headers.get("www-authenticate"),
      /^Bearer authorization_uri=https:\/\/login\.microsoftonline\.com\/.* resource_id=https:\/\/storage\.azure\.com/,
    );
  });
}

// A user delegation SAS for a.txt (or `blob`) with these permission letters, signed with a key
// Get User Delegation Key gave the Contributor.
async function delegatedBlob(permissions, blob = "a.txt") {
  const now = Date.now();
  const startsOn = new Date(now - 5 * 60_000);
  const expiresOn = new Date(now + 3600_000);
  const key = await service(env("CONTRIBUTOR")).getUserDelegationKey(startsOn, expiresOn);
  assert.equal(key.signedObjectId, env("CONTRIBUTOR"));
  assert.equal(key.signedTenantId, env("TENANT"));
  assert.equal(key.signedService, "b");
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container.containerName,
      blobName: blob,
      permissions: BlobSASPermissions.parse(permissions),
      startsOn,
      expiresOn: new Date(now + 30 * 60_000),
    },
    key,
    ACCOUNT,
  ).toString();
  assert.match(sas, /skoid=/);
  return new BlobClient(
    `${ACCOUNT_URL}/${container.containerName}/${blob}?${sas}`,
    new AnonymousCredential(),
    options,
  );
}

test("a user delegation SAS reads a blob anonymously", async () => {
  const blob = await delegatedBlob("r");
  assert.equal((await blob.downloadToBuffer()).toString(), "over a token");
});

test("a user delegation SAS without w cannot write", async () => {
  const blob = await delegatedBlob("r", "not-written.txt");
  const err = await refused(() => blob.getBlockBlobClient().upload("x", 1));
  assert.equal(err.statusCode, 403);
  assert.equal(err.code, "AuthorizationPermissionMismatch");
});
