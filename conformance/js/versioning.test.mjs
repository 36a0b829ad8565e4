// Blob versioning through @azure/storage-blob, in the account of LAPIS_FEATURES_ENDPOINT (versioning
// on, conformance/accounts.json): which writes make a version, reading, listing, tagging, tiering and
// deleting a version by its id, and restoring one by copying it over its blob. Azure's switch lives in
// its management plane and Azurite has none, so every test skips when LAPIS_FEATURES_ENDPOINT is not set.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  blockId,
  downloadAll,
  expectRestError,
  featuresServiceClient,
  FEATURES_SKIP,
  withContainer,
} from "./lib/env.mjs";

const vtest = (name, body) => test(name, { skip: FEATURES_SKIP }, body);
const withVersionedContainer = (prefix, body) => withContainer(prefix, body, featuresServiceClient);

async function text(blobClient) {
  return (await downloadAll(blobClient)).body.toString();
}

/** The blob's entries in a listing with includeVersions, in the order the service lists them. */
async function listVersions(container, name) {
  const out = [];
  for await (const item of container.listBlobsFlat({ prefix: name, includeVersions: true })) {
    if (item.name === name) out.push(item);
  }
  return out;
}

vtest("each content or metadata write answers a new x-ms-version-id; Set Blob Properties does not", async () => {
  await withVersionedContainer("js-vwrites", async (container) => {
    const blob = container.getBlockBlobClient("doc.txt");
    const v1 = (await blob.upload("first", 5)).versionId;
    assert.ok(v1, "Put Blob answers x-ms-version-id");

    await blob.stageBlock(blockId(1), "second", 6);
    const v2 = (await blob.commitBlockList([blockId(1)])).versionId;
    assert.ok(v2 > v1, `Put Block List makes a newer version (${v2} after ${v1})`);

    const v3 = (await blob.setMetadata({ k: "v" })).versionId;
    assert.ok(v3 > v2, `Set Blob Metadata makes a newer version (${v3} after ${v2})`);

    // Set Blob Properties changes no content nor metadata: no version, and the current one stays.
    const headers = await blob.setHTTPHeaders({ blobContentType: "text/plain" });
    assert.equal(headers.versionId, undefined, "Set Blob Properties answers no x-ms-version-id");
    const current = await blob.getProperties();
    assert.equal(current.versionId, v3);
    assert.equal(current.isCurrentVersion, true);
    assert.equal(current.contentType, "text/plain");

    const copy = container.getBlobClient("copy.txt");
    const copied = await (await copy.beginCopyFromURL(blob.url)).pollUntilDone();
    assert.equal(copied.copyStatus, "success");
    assert.ok(copied.versionId, "Copy Blob answers x-ms-version-id");
    assert.equal((await copy.getProperties()).versionId, copied.versionId);

    // Three versions of doc.txt were made before the current one; the header change made none.
    const listed = await listVersions(container, "doc.txt");
    assert.deepEqual(
      listed.map((b) => b.versionId),
      [v1, v2, v3],
    );
  });
});

vtest("an old version reads with its own bytes and properties and is not the current version", async () => {
  await withVersionedContainer("js-vread", async (container) => {
    const blob = container.getBlockBlobClient("doc.txt");
    const v1 = (await blob.upload("first", 5, { metadata: { state: "draft" } })).versionId;
    const v2 = (await blob.upload("second!", 7)).versionId;

    const old = blob.withVersion(v1);
    const { response, body } = await downloadAll(old);
    assert.equal(body.toString(), "first");
    assert.equal(response.versionId, v1);
    // Azure sends x-ms-is-current-version only on the current version (recordings TestDeleteSpecificBlobVersion).
    assert.equal(response.isCurrentVersion, undefined);

    const props = await old.getProperties();
    assert.equal(props.versionId, v1);
    assert.equal(props.contentLength, 5);
    assert.deepEqual(props.metadata, { state: "draft" });
    assert.equal(props.isCurrentVersion, undefined, "a previous version sends no x-ms-is-current-version");

    const current = await blob.getProperties();
    assert.equal(current.versionId, v2);
    assert.equal(current.isCurrentVersion, true);
    assert.equal(current.contentLength, 7);
    assert.deepEqual(current.metadata, {});
    assert.equal(await text(blob), "second!");
    // The current version addressed by its id is the blob.
    assert.equal(await text(blob.withVersion(v2)), "second!");
  });
});

vtest("listing with includeVersions lists each version with its id, length, and which is current", async () => {
  await withVersionedContainer("js-vlist", async (container) => {
    const blob = container.getBlockBlobClient("listed.txt");
    const ids = [];
    for (const data of ["a", "bb", "ccc"]) ids.push((await blob.upload(data, data.length)).versionId);

    const listed = await listVersions(container, "listed.txt");
    assert.deepEqual(
      listed.map((b) => b.versionId),
      ids,
      "previous versions oldest first, then the current one",
    );
    // Azure writes <IsCurrentVersion> only on the current version (recordings TestDeleteSpecificBlobVersion).
    assert.deepEqual(
      listed.map((b) => b.isCurrentVersion),
      [undefined, undefined, true],
    );
    assert.deepEqual(
      listed.map((b) => b.properties.contentLength),
      [1, 2, 3],
      "each version lists its own length",
    );

    // Without includeVersions the blob is listed once, as its current version.
    const plain = [];
    for await (const item of container.listBlobsFlat({ prefix: "listed.txt" })) plain.push(item);
    assert.equal(plain.length, 1);
    assert.equal(plain[0].versionId, ids[2]);
    assert.equal(plain[0].properties.contentLength, 3);
  });
});

vtest("delete by version id: a previous one goes, the current one is 403, an unknown one is 404", async () => {
  await withVersionedContainer("js-vdelete", async (container) => {
    const blob = container.getBlockBlobClient("deleted.txt");
    const v1 = (await blob.upload("one", 3)).versionId;
    const v2 = (await blob.upload("two", 3)).versionId;

    // The current version goes only with the blob (Delete Blob without versionid).
    await expectRestError(blob.withVersion(v2).delete(), 403, "OperationNotAllowedOnRootBlob");
    assert.equal(await text(blob), "two");

    await blob.withVersion(v1).delete();
    await expectRestError(blob.withVersion(v1).getProperties(), 404, "BlobNotFound");
    await expectRestError(blob.withVersion(v1).download(), 404, "BlobNotFound");
    assert.deepEqual(
      (await listVersions(container, "deleted.txt")).map((b) => b.versionId),
      [v2],
    );

    // A version id the blob never had is not found, never the base blob.
    const never = "2001-01-01T00:00:00.0000000Z";
    await expectRestError(blob.withVersion(never).download(), 404, "BlobNotFound");
    await expectRestError(blob.withVersion(never).getProperties(), 404, "BlobNotFound");
  });
});

vtest("deleting the blob keeps its versions readable by id", async () => {
  await withVersionedContainer("js-vbase", async (container) => {
    const blob = container.getBlockBlobClient("gone.txt");
    const v1 = (await blob.upload("one", 3)).versionId;
    const v2 = (await blob.upload("two!", 4)).versionId;

    await blob.delete();
    assert.equal(await blob.exists(), false);
    await expectRestError(blob.getProperties(), 404, "BlobNotFound");

    assert.equal(await text(blob.withVersion(v1)), "one");
    assert.equal(await text(blob.withVersion(v2)), "two!");
    const props = await blob.withVersion(v2).getProperties();
    assert.equal(props.isCurrentVersion, undefined, "the deleted blob has no current version");

    const listed = await listVersions(container, "gone.txt");
    assert.deepEqual(
      listed.map((b) => [b.versionId, b.isCurrentVersion, b.properties.contentLength]),
      [
        [v1, undefined, 3],
        [v2, undefined, 4],
      ],
    );
  });
});

vtest("tags and tier address a version by its id and leave the current one alone", async () => {
  await withVersionedContainer("js-vtags", async (container) => {
    const blob = container.getBlockBlobClient("tagged.txt");
    const v1 = (await blob.upload("one", 3)).versionId;
    const v2 = (await blob.upload("two", 3)).versionId;

    const setTags = await blob.withVersion(v1).setTags({ state: "old" });
    assert.equal(setTags.versionId, undefined, "Set Blob Tags makes no version");
    assert.deepEqual((await blob.withVersion(v1).getTags()).tags, { state: "old" });
    assert.deepEqual((await blob.getTags()).tags, {});

    await blob.withVersion(v1).setAccessTier("Cool");
    assert.equal((await blob.withVersion(v1).getProperties()).accessTier, "Cool");
    const current = await blob.getProperties();
    assert.equal(current.accessTier, "Hot");
    assert.equal(current.versionId, v2, "neither tags nor tier made a version");
  });
});

// Azure: "previous versions cannot be rehydrated back to the hot or cool tiers once they are moved
// to the archive tier" (copying one to a blob is the way back, and in Azure takes hours, so it is not
// asserted here). Recording TestBlockBlobSetTierOnVersions.
vtest("an archived previous version is not rehydrated in place: 409 BlobOperationNotSupported", async () => {
  await withVersionedContainer("js-varchive", async (container) => {
    const blob = container.getBlockBlobClient("archived.txt");
    const v1 = (await blob.upload("one", 3)).versionId;
    await blob.upload("two", 3);

    await blob.withVersion(v1).setAccessTier("Archive");
    assert.equal((await blob.withVersion(v1).getProperties()).accessTier, "Archive");
    await expectRestError(blob.withVersion(v1).setAccessTier("Cool"), 409, "BlobOperationNotSupported");
    assert.equal((await blob.withVersion(v1).getProperties()).accessTier, "Archive");
  });
});

vtest("copying an old version (?versionid=) over its blob restores it as a new current version", async () => {
  await withVersionedContainer("js-vrestore", async (container) => {
    const blob = container.getBlockBlobClient("restored.txt");
    const v1 = (await blob.upload("good", 4, { metadata: { state: "good" } })).versionId;
    const v2 = (await blob.upload("bad", 3)).versionId;

    const source = `${blob.url}?versionid=${encodeURIComponent(v1)}`;
    const copied = await (await blob.beginCopyFromURL(source)).pollUntilDone();
    assert.equal(copied.copyStatus, "success");
    assert.ok(copied.versionId > v2, `the restore is a new version (${copied.versionId} after ${v2})`);

    assert.equal(await text(blob), "good");
    const props = await blob.getProperties();
    assert.equal(props.versionId, copied.versionId);
    assert.equal(props.isCurrentVersion, true);
    assert.deepEqual(props.metadata, { state: "good" }, "Copy Blob copies the source's metadata");
    // The restored-from and the replaced versions both stay.
    assert.equal(await text(blob.withVersion(v1)), "good");
    assert.equal(await text(blob.withVersion(v2)), "bad");
    assert.deepEqual(
      (await listVersions(container, "restored.txt")).map((b) => b.versionId),
      [v1, v2, copied.versionId],
    );
  });
});
