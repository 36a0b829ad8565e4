// Blob and container soft delete through @azure/storage-blob, in the account of
// LAPIS_SOFT_DELETE_ENDPOINT (container soft delete on, versioning off, conformance/accounts.json).
// Blob soft delete follows the account's DeleteRetentionPolicy, which Azure sets in the data plane:
// the before hook turns it on once with Set Blob Service Properties and leaves it on (no other suite
// uses this account). Container soft delete is a management-plane switch in Azure, so Lapis takes it
// from its --accountConfig file. Azurite has neither, so every test skips without the endpoint.
// The tests of this file run in order (node --test runs only files in parallel), so they never race
// over the account-wide policy.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import {
  downloadAll,
  expectRestError,
  softDeleteServiceClient,
  SOFT_DELETE_SKIP,
  uniqueName,
  withContainer,
} from "./lib/env.mjs";

/** Days of the blob DeleteRetentionPolicy this file sets. */
const BLOB_RETENTION_DAYS = 1;
/** containerSoftDeleteDays of lapissoftdelete in conformance/accounts.json. */
const CONTAINER_RETENTION_DAYS = 7;

const sdtest = (name, body) => test(name, { skip: SOFT_DELETE_SKIP }, body);
const withSoftContainer = (prefix, body) => withContainer(prefix, body, softDeleteServiceClient);

before(async () => {
  if (SOFT_DELETE_SKIP) return;
  await softDeleteServiceClient.setProperties({
    deleteRetentionPolicy: { enabled: true, days: BLOB_RETENTION_DAYS },
  });
});

async function text(blobClient) {
  return (await downloadAll(blobClient)).body.toString();
}

/** The container's listing as [name, snapshot ("" for the base blob), deleted] rows, in service order. */
async function listed(container, options = {}) {
  const out = [];
  for await (const item of container.listBlobsFlat(options)) {
    out.push([item.name, item.snapshot ?? "", item.deleted === true]);
  }
  return out;
}

/** The listing items of one blob name with snapshots and deleted entries. */
async function deletedItems(container, name) {
  const out = [];
  for await (const item of container.listBlobsFlat({
    prefix: name,
    includeSnapshots: true,
    includeDeleted: true,
  })) {
    if (item.name === name) out.push(item);
  }
  return out;
}

function assertSoftDeletedItem(item, what) {
  assert.equal(item.deleted, true, `${what}: <Deleted>true`);
  assert.ok(item.properties.deletedOn instanceof Date, `${what}: DeletedTime`);
  assert.ok(
    Math.abs(Date.now() - item.properties.deletedOn.getTime()) < 5 * 60_000,
    `${what}: DeletedTime is now (${item.properties.deletedOn.toISOString()})`,
  );
  assert.equal(item.properties.remainingRetentionDays, BLOB_RETENTION_DAYS, `${what}: RemainingRetentionDays`);
}

sdtest("the DeleteRetentionPolicy set by this file reads back", async () => {
  const { deleteRetentionPolicy } = await softDeleteServiceClient.getProperties();
  assert.equal(deleteRetentionPolicy.enabled, true);
  assert.equal(deleteRetentionPolicy.days, BLOB_RETENTION_DAYS);
});

sdtest("a blob deleted with its snapshots is gone, listed with includeDeleted, and undelete brings all back", async () => {
  await withSoftContainer("js-sdblob", async (container) => {
    // An append blob: appending is no overwrite, so no soft-deleted snapshot of its own is kept.
    const blob = container.getAppendBlobClient("doc.txt");
    await blob.create();
    await blob.appendBlock("first", 5);
    const snapshot = (await blob.createSnapshot()).snapshot;
    await blob.appendBlock(" second", 7);

    const deleted = await blob.delete({ deleteSnapshots: "include" });
    assert.equal(deleted._response.status, 202);
    await expectRestError(blob.download(), 404, "BlobNotFound");
    await expectRestError(blob.getProperties(), 404, "BlobNotFound");
    await expectRestError(blob.withSnapshot(snapshot).download(), 404, "BlobNotFound");

    // Without includeDeleted nothing is listed, not even with snapshots.
    assert.deepEqual(await listed(container), []);
    assert.deepEqual(await listed(container, { includeSnapshots: true }), []);

    const plain = [];
    for await (const i of container.listBlobsFlat({ includeDeleted: true })) plain.push(i);
    assert.equal(plain.length, 1, "the deleted blob is listed once with includeDeleted");
    assert.equal(plain[0].name, "doc.txt");
    assert.equal(plain[0].snapshot ?? "", "");
    assertSoftDeletedItem(plain[0], "deleted blob");

    // With snapshots too, the snapshot (oldest first) and then the blob, both deleted.
    const all = await deletedItems(container, "doc.txt");
    assert.deepEqual(
      all.map((i) => [i.snapshot ?? "", i.deleted === true]),
      [
        [snapshot, true],
        ["", true],
      ],
    );
    assertSoftDeletedItem(all[0], "deleted snapshot");

    const undeleted = await blob.undelete();
    assert.equal(undeleted._response.status, 200);
    assert.equal(await text(blob), "first second");
    assert.equal(await text(blob.withSnapshot(snapshot)), "first");
    assert.deepEqual(await listed(container, { includeSnapshots: true, includeDeleted: true }), [
      ["doc.txt", snapshot, false],
      ["doc.txt", "", false],
    ]);
  });
});

sdtest("deleting one snapshot soft-deletes it and undelete restores it", async () => {
  await withSoftContainer("js-sdsnap", async (container) => {
    const blob = container.getAppendBlobClient("s.txt");
    await blob.create();
    await blob.appendBlock("v1", 2);
    const snapshot = (await blob.createSnapshot()).snapshot;
    await blob.appendBlock(" v2", 3);

    await blob.withSnapshot(snapshot).delete();
    await expectRestError(blob.withSnapshot(snapshot).download(), 404, "BlobNotFound");
    assert.equal(await text(blob), "v1 v2", "the blob itself stays");
    assert.deepEqual(await listed(container, { includeSnapshots: true }), [["s.txt", "", false]]);
    const all = await deletedItems(container, "s.txt");
    assert.deepEqual(
      all.map((i) => [i.snapshot ?? "", i.deleted === true]),
      [
        [snapshot, true],
        ["", false],
      ],
    );
    assertSoftDeletedItem(all[0], "deleted snapshot");
    assert.equal(all[1].properties.deletedOn, undefined, "a live blob has no DeletedTime");

    // Undelete on the live blob restores its soft-deleted snapshots.
    await blob.undelete();
    assert.equal(await text(blob.withSnapshot(snapshot)), "v1");
    assert.deepEqual(await listed(container, { includeSnapshots: true, includeDeleted: true }), [
      ["s.txt", snapshot, false],
      ["s.txt", "", false],
    ]);
  });
});

sdtest("an overwrite keeps the old content as a soft-deleted snapshot that undelete restores", async () => {
  await withSoftContainer("js-sdover", async (container) => {
    const blob = container.getBlockBlobClient("o.txt");
    await blob.upload("old", 3);
    await blob.upload("newer", 5);
    assert.equal(await text(blob), "newer");

    // No snapshot was asked for: none is listed without includeDeleted.
    assert.deepEqual(await listed(container, { includeSnapshots: true }), [["o.txt", "", false]]);
    const all = await deletedItems(container, "o.txt");
    assert.equal(all.length, 2, "the overwritten state and the blob");
    const kept = all[0];
    assert.ok(kept.snapshot, "the overwritten state is listed as a snapshot");
    assertSoftDeletedItem(kept, "overwritten state");
    assert.equal(kept.properties.contentLength, 3);
    assert.deepEqual([all[1].snapshot ?? "", all[1].deleted === true], ["", false]);
    await expectRestError(blob.withSnapshot(kept.snapshot).download(), 404, "BlobNotFound");

    await blob.undelete();
    assert.equal(await text(blob.withSnapshot(kept.snapshot)), "old");
    assert.equal(await text(blob), "newer", "undelete leaves the live content alone");
  });
});

sdtest("undelete of a live blob is a 200 no-op; of a name never written 404 BlobNotFound", async () => {
  await withSoftContainer("js-sdlive", async (container) => {
    const blob = container.getBlockBlobClient("live.txt");
    const etag = (await blob.upload("here", 4)).etag;
    const undeleted = await blob.undelete();
    assert.equal(undeleted._response.status, 200);
    const props = await blob.getProperties();
    assert.equal(props.etag, etag, "undelete changes nothing on a live blob");
    assert.equal(await text(blob), "here");
    assert.deepEqual(await listed(container, { includeSnapshots: true, includeDeleted: true }), [
      ["live.txt", "", false],
    ]);

    await expectRestError(container.getBlobClient("never.txt").undelete(), 404, "BlobNotFound");
  });
});

/** The deleted entries of the listing of containers named exactly `name`, in service order. */
async function deletedContainers(name) {
  const out = [];
  for await (const item of softDeleteServiceClient.listContainers({ prefix: name, includeDeleted: true })) {
    if (item.name === name && item.deleted) out.push(item);
  }
  return out;
}

async function liveContainerNames(prefix) {
  const out = [];
  for await (const item of softDeleteServiceClient.listContainers({ prefix, includeDeleted: true })) {
    if (!item.deleted) out.push(item.name);
  }
  return out;
}

sdtest("a deleted container frees its name at once, is listed with includeDeleted, and is restored with its blobs", async () => {
  const name = uniqueName("js-sdcont");
  const first = softDeleteServiceClient.getContainerClient(name);
  await first.create({ metadata: { generation: "first" } });
  try {
    await first.getBlockBlobClient("kept.txt").upload("kept", 4);
    await first.delete();
    await expectRestError(first.getProperties(), 404, "ContainerNotFound");
    await expectRestError(first.getBlobClient("kept.txt").download(), 404, "ContainerNotFound");
    // DeletedTime has whole seconds: tell the two deletions apart by listing after the first.
    const [firstDeletion] = await deletedContainers(name);
    assert.ok(firstDeletion, "the deleted container is listed with includeDeleted");

    // The name is free at once: a new container of that name, deleted again, is a second version.
    await first.create({ metadata: { generation: "second" } });
    await first.getBlockBlobClient("other.txt").upload("other", 5);
    await first.delete();

    assert.deepEqual(await liveContainerNames(name), []);
    let plain = 0;
    for await (const item of softDeleteServiceClient.listContainers({ prefix: name })) {
      if (item.name === name) plain++;
    }
    assert.equal(plain, 0, "deleted containers are listed only with includeDeleted");

    const deleted = await deletedContainers(name);
    assert.equal(deleted.length, 2, "both deleted containers of the name are listed");
    for (const item of deleted) {
      assert.equal(item.deleted, true);
      assert.ok(item.version, "<Version>");
      assert.ok(item.properties.deletedOn instanceof Date, "<DeletedTime>");
      assert.ok(Math.abs(Date.now() - item.properties.deletedOn.getTime()) < 5 * 60_000, "DeletedTime is now");
      assert.equal(item.properties.remainingRetentionDays, CONTAINER_RETENTION_DAYS);
    }
    assert.notEqual(deleted[0].version, deleted[1].version, "each deletion has its own version");
    const older = deleted.find((c) => c.version === firstDeletion.version);
    const newer = deleted.find((c) => c.version !== firstDeletion.version);
    assert.ok(older && newer, "the first deletion is still listed, next to the second");

    const { containerClient, containerUndeleteResponse } = await softDeleteServiceClient.undeleteContainer(
      name,
      older.version,
    );
    assert.equal(containerUndeleteResponse._response.status, 201);
    assert.equal(containerClient.containerName, name);
    assert.equal(await text(containerClient.getBlobClient("kept.txt")), "kept");
    await expectRestError(containerClient.getBlobClient("other.txt").download(), 404, "BlobNotFound");
    assert.equal((await containerClient.getProperties()).metadata.generation, "first");
    assert.deepEqual(await liveContainerNames(name), [name]);
    assert.deepEqual(
      (await deletedContainers(name)).map((c) => c.version),
      [newer.version],
      "the restored version is no longer listed as deleted",
    );

    // A live container of the name is in the way of the other version.
    await expectRestError(
      softDeleteServiceClient.undeleteContainer(name, newer.version),
      409,
      "ContainerAlreadyExists",
    );
    await containerClient.delete();
  } finally {
    await first.deleteIfExists();
  }
});

sdtest("restoring an unknown version of a deleted container answers 404 ContainerNotFound", async () => {
  const name = uniqueName("js-sdunknown");
  const client = softDeleteServiceClient.getContainerClient(name);
  await client.create();
  await client.delete();
  const [deleted] = await deletedContainers(name);
  assert.ok(deleted, "the deleted container is listed");
  await expectRestError(
    softDeleteServiceClient.undeleteContainer(name, "01D0000000000000"),
    404,
    "ContainerNotFound",
  );
  // A name that never had a container: the same answer.
  await expectRestError(
    softDeleteServiceClient.undeleteContainer(uniqueName("js-sdnever"), deleted.version),
    404,
    "ContainerNotFound",
  );
  // The real version still restores.
  const { containerClient } = await softDeleteServiceClient.undeleteContainer(name, deleted.version);
  await containerClient.getProperties();
  await containerClient.delete();
});
