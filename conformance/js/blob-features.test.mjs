// The Blob API beyond block blobs through @azure/storage-blob: leases, snapshots, copies,
// tiers, append and page blobs, index tags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withContainer } from "./lib/env.mjs";

async function text(blobClient) {
  const resp = await blobClient.download();
  const chunks = [];
  for await (const chunk of resp.readableStreamBody) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function errorOf(promise) {
  try {
    await promise;
  } catch (e) {
    return { status: e.statusCode, code: e.code ?? e.details?.errorCode };
  }
  assert.fail("expected the call to fail");
}

test("a lease guards writes and shows in properties", async () => {
  await withContainer("js-lease", async (container) => {
    const blob = container.getBlockBlobClient("leased");
    await blob.upload("one", 3);
    const lease = blob.getBlobLeaseClient("2f0f1c1e-0000-4000-8000-000000000001");
    await lease.acquireLease(-1);
    assert.deepEqual(await errorOf(blob.upload("two", 3)), { status: 412, code: "LeaseIdMissing" });
    await blob.upload("two", 3, { conditions: { leaseId: lease.leaseId } });
    const props = await blob.getProperties();
    assert.equal(props.leaseState, "leased");
    assert.equal(props.leaseDuration, "infinite");
    await lease.breakLease(0);
    assert.equal((await blob.getProperties()).leaseState, "broken");
  });
});

test("snapshots keep their content, copies complete at once", async () => {
  await withContainer("js-snap", async (container) => {
    const blob = container.getBlockBlobClient("base");
    await blob.upload("first", 5);
    const { snapshot } = await blob.createSnapshot();
    await blob.upload("second", 6);
    assert.equal(await text(blob.withSnapshot(snapshot)), "first");
    const listed = [];
    for await (const b of container.listBlobsFlat({ includeSnapshots: true })) listed.push(b.snapshot ?? null);
    assert.deepEqual(listed, [snapshot, null]);

    const copy = container.getBlobClient("copy");
    const poller = await copy.beginCopyFromURL(blob.url);
    const result = await poller.pollUntilDone();
    assert.equal(result.copyStatus, "success");
    assert.equal(await text(copy), "second");
    await blob.delete({ deleteSnapshots: "include" });
  });
});

test("append blobs append and seal; page blobs are sparse", async () => {
  await withContainer("js-types", async (container) => {
    const log = container.getAppendBlobClient("log");
    await log.create();
    await log.appendBlock("ab", 2);
    await log.appendBlock("cd", 2);
    await log.seal();
    assert.deepEqual(await errorOf(log.appendBlock("e", 1)), { status: 409, code: "BlobIsSealed" });
    assert.equal(await text(log), "abcd");

    const disk = container.getPageBlobClient("disk");
    await disk.create(1024 * 1024);
    await disk.uploadPages(Buffer.alloc(512, 9), 512, 512);
    const ranges = await disk.getPageRanges();
    // The SDK reports a range's count as end - start (511 for the page at 512-1023).
    assert.deepEqual(ranges.pageRange, [{ offset: 512, count: 511 }]);
    const resp = await disk.download(0, 1024);
    const chunks = [];
    for await (const chunk of resp.readableStreamBody) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, 1024);
    assert.ok(bytes.subarray(0, 512).every((b) => b === 0));
    assert.ok(bytes.subarray(512).every((b) => b === 9));
  });
});

test("tiers and index tags", async () => {
  await withContainer("js-tier", async (container) => {
    const blob = container.getBlockBlobClient("cold");
    await blob.upload("x", 1, { tags: { team: "lapis" } });
    assert.deepEqual((await blob.getTags()).tags, { team: "lapis" });
    await blob.setAccessTier("Archive");
    assert.deepEqual(await errorOf(blob.download()), { status: 409, code: "BlobArchived" });
    await blob.setAccessTier("Cool");
    assert.equal((await blob.getProperties()).accessTier, "Cool");
  });
});
