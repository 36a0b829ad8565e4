// Blob Batch through BlobBatchClient: account-scoped and container-scoped deletes, a failure
// inside a batch, one request across containers, and Set Blob Tier answered as it is alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serviceClient, uniqueName, withContainer } from "./lib/env.mjs";

async function upload(container, ...names) {
  for (const name of names) {
    await container.getBlockBlobClient(name).upload("batch me", 8);
  }
}

async function names(container) {
  const out = [];
  for await (const blob of container.listBlobsFlat()) out.push(blob.name);
  return out.sort();
}

test("account-scoped batch deletes across containers, one failure reported in its part", async () => {
  const second = serviceClient.getContainerClient(uniqueName("js-batch2"));
  await second.create();
  try {
    await withContainer("js-batch", async (container) => {
      await upload(container, "a", "dir/b");
      await upload(second, "c");
      const batch = serviceClient.getBlobBatchClient();
      const urls = [
        container.getBlobClient("a").url,
        container.getBlobClient("dir/b").url,
        second.getBlobClient("c").url,
        container.getBlobClient("missing").url,
      ];
      const resp = await batch.deleteBlobs(urls, serviceClient.credential);
      assert.equal(resp._response.status, 202);
      assert.equal(resp.subResponsesSucceededCount, 3);
      assert.equal(resp.subResponsesFailedCount, 1);
      const statuses = resp.subResponses.map((r) => r.status);
      assert.deepEqual(statuses, [202, 202, 202, 404]);
      assert.equal(resp.subResponses[3].errorCode, "BlobNotFound");
      assert.deepEqual(await names(container), []);
      assert.deepEqual(await names(second), []);
    });
  } finally {
    await second.deleteIfExists();
  }
});

test("container-scoped batch deletes the container's blobs", async () => {
  await withContainer("js-batchc", async (container) => {
    await upload(container, "x", "y");
    const batch = container.getBlobBatchClient();
    const resp = await batch.deleteBlobs(
      [container.getBlobClient("x"), container.getBlobClient("y")],
    );
    assert.equal(resp._response.status, 202);
    assert.deepEqual(resp.subResponses.map((r) => r.status), [202, 202]);
    assert.deepEqual(await names(container), []);
  });
});

test("Set Blob Tier in a batch answers what Set Blob Tier answers alone", async () => {
  await withContainer("js-batcht", async (container) => {
    await upload(container, "t1", "t2");
    let alone;
    try {
      const r = await container.getBlobClient("t2").setAccessTier("Cool");
      alone = [r._response.status, undefined];
    } catch (e) {
      alone = [e.statusCode, e.code];
    }
    const batch = container.getBlobBatchClient();
    const resp = await batch.setBlobsAccessTier([container.getBlobClient("t1")], "Cool");
    assert.equal(resp._response.status, 202);
    const sub = resp.subResponses[0];
    assert.deepEqual([sub.status, sub.errorCode], alone);
  });
});
