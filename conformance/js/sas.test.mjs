// Shared access signatures: container, blob and account SAS, what each allows and refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AccountSASPermissions,
  BlobClient,
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
} from "@azure/storage-blob";
import {
  downloadAll,
  expectRestError,
  serviceClient,
  TARGET_IS_AZURITE,
  uniqueName,
  withContainer,
} from "./lib/env.mjs";

const HOUR = 3600 * 1000;

// Azure answers a SAS whose signature does not verify, or whose time window has passed, with
// 403 AuthenticationFailed. Azurite answers 403 AuthorizationFailure for both, so on Azurite only
// the status is asserted.
const SAS_AUTH_FAILED = TARGET_IS_AZURITE ? undefined : "AuthenticationFailed";
const noRetry = { retryOptions: { maxTries: 1 } };

const inOneHour = () => new Date(Date.now() + HOUR);
// Clock skew between client and server must not make a fresh SAS "not yet valid".
const fiveMinutesAgo = () => new Date(Date.now() - 5 * 60 * 1000);

async function seedBlob(container, name, text) {
  const blob = container.getBlockBlobClient(name);
  await blob.upload(text, Buffer.byteLength(text));
  return blob;
}

test("container SAS with read+list reads and lists but cannot write", () =>
  withContainer("js-csas", async (container) => {
    await seedBlob(container, "readable.txt", "sas data");
    const url = await container.generateSasUrl({
      permissions: ContainerSASPermissions.parse("rl"),
      startsOn: fiveMinutesAgo(),
      expiresOn: inOneHour(),
    });
    const viaSas = new ContainerClient(url, undefined, noRetry);

    const { response, body } = await downloadAll(viaSas.getBlobClient("readable.txt"));
    assert.equal(response._response.status, 200);
    assert.equal(body.toString(), "sas data");

    const names = [];
    for await (const b of viaSas.listBlobsFlat()) names.push(b.name);
    assert.deepEqual(names, ["readable.txt"]);

    const write = viaSas.getBlockBlobClient("denied.txt").upload("nope", 4);
    await expectRestError(write, 403, "AuthorizationPermissionMismatch");
    const del = viaSas.getBlobClient("readable.txt").delete();
    await expectRestError(del, 403, "AuthorizationPermissionMismatch");
    assert.equal(await container.getBlobClient("denied.txt").exists(), false);
  }));

test("container SAS with write permission can upload", () =>
  withContainer("js-csas-w", async (container) => {
    const url = await container.generateSasUrl({
      permissions: ContainerSASPermissions.parse("cw"),
      startsOn: fiveMinutesAgo(),
      expiresOn: inOneHour(),
    });
    const viaSas = new ContainerClient(url, undefined, noRetry);
    const put = await viaSas.getBlockBlobClient("written.txt").upload("ok", 2);
    assert.equal(put._response.status, 201);
    const { body } = await downloadAll(container.getBlobClient("written.txt"));
    assert.equal(body.toString(), "ok");
  }));

test("blob SAS downloads its own blob only", () =>
  withContainer("js-bsas", async (container) => {
    const blob = await seedBlob(container, "mine.txt", "blob sas");
    await seedBlob(container, "other.txt", "secret");
    const url = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse("r"),
      startsOn: fiveMinutesAgo(),
      expiresOn: inOneHour(),
    });
    const { body } = await downloadAll(new BlobClient(url, undefined, noRetry));
    assert.equal(body.toString(), "blob sas");

    // The signature covers the blob's path, so reusing it for another blob fails to authenticate.
    const query = new URL(url).search;
    const other = new BlobClient(`${container.url}/other.txt${query}`, undefined, noRetry);
    await expectRestError(other.download(), 403, SAS_AUTH_FAILED);
  }));

test("account SAS grants service-wide access within its permissions and resource types", async () => {
  const fullUrl = serviceClient.generateAccountSasUrl(
    inOneHour(),
    AccountSASPermissions.parse("rwdlac"),
    "sco",
    { startsOn: fiveMinutesAgo() },
  );
  const full = new BlobServiceClient(fullUrl, undefined, noRetry);
  const name = uniqueName("js-asas");
  const container = full.getContainerClient(name);
  const created = await container.create();
  assert.equal(created._response.status, 201);
  try {
    await seedBlob(container, "a.txt", "account sas");
    const { body } = await downloadAll(container.getBlobClient("a.txt"));
    assert.equal(body.toString(), "account sas");

    // Read-only account SAS: reads pass, writes are a permission mismatch.
    const readUrl = serviceClient.generateAccountSasUrl(
      inOneHour(),
      AccountSASPermissions.parse("rl"),
      "sco",
      { startsOn: fiveMinutesAgo() },
    );
    const readOnly = new BlobServiceClient(readUrl, undefined, noRetry);
    const readBlob = readOnly.getContainerClient(name).getBlobClient("a.txt");
    assert.equal((await downloadAll(readBlob)).body.toString(), "account sas");
    await expectRestError(
      readOnly.getContainerClient(name).getBlockBlobClient("b.txt").upload("x", 1),
      403,
      "AuthorizationPermissionMismatch",
    );

    // Object-only account SAS cannot act on a container.
    const objectUrl = serviceClient.generateAccountSasUrl(
      inOneHour(),
      AccountSASPermissions.parse("rwdlac"),
      "o",
      { startsOn: fiveMinutesAgo() },
    );
    const objectOnly = new BlobServiceClient(objectUrl, undefined, noRetry);
    const refusedName = uniqueName("js-asas-o");
    try {
      await expectRestError(
        objectOnly.getContainerClient(refusedName).create(),
        403,
        "AuthorizationResourceTypeMismatch",
      );
    } finally {
      // Only matters when a server wrongly accepted the create.
      await serviceClient.getContainerClient(refusedName).deleteIfExists();
    }
  } finally {
    await serviceClient.getContainerClient(name).deleteIfExists();
  }
});

test("expired or tampered SAS is 403 AuthenticationFailed", () =>
  withContainer("js-sas-exp", async (container) => {
    const blob = await seedBlob(container, "x.txt", "x");
    const expiredUrl = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse("r"),
      startsOn: new Date(Date.now() - 2 * HOUR),
      expiresOn: new Date(Date.now() - HOUR),
    });
    await expectRestError(
      new BlobClient(expiredUrl, undefined, noRetry).download(),
      403,
      SAS_AUTH_FAILED,
    );

    const validUrl = new URL(
      await blob.generateSasUrl({
        permissions: BlobSASPermissions.parse("r"),
        startsOn: fiveMinutesAgo(),
        expiresOn: inOneHour(),
      }),
    );
    // Widening the permissions after signing must invalidate the signature.
    validUrl.searchParams.set("sp", "rwd");
    await expectRestError(
      new BlobClient(validUrl.toString(), undefined, noRetry).delete(),
      403,
      SAS_AUTH_FAILED,
    );
    assert.equal(await blob.exists(), true);
  }));
