// Upload and download of block blobs: small, empty, multi-MB through block staging, and the
// block list in each of its three views.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { blockId, downloadAll, expectRestError, payload, withContainer } from "./lib/env.mjs";

const MiB = 1024 * 1024;

test("small upload round-trips bytes, content type and metadata", () =>
  withContainer("js-small", async (container) => {
    const blob = container.getBlockBlobClient("dir/small.txt");
    const data = Buffer.from("hello, lapis\n");
    const put = await blob.upload(data, data.length, {
      blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" },
      metadata: { origin: "js" },
    });
    assert.equal(put._response.status, 201);
    assert.match(put.etag, /^"0x[0-9A-F]+"$/);
    assert.ok(put.lastModified instanceof Date);
    // Azure computes Content-MD5 for a single-shot Put Blob.
    assert.deepEqual(Buffer.from(put.contentMD5), createHash("md5").update(data).digest());

    const { response, body } = await downloadAll(blob);
    assert.equal(response._response.status, 200);
    assert.deepEqual(body, data);
    assert.equal(response.contentLength, data.length);
    assert.equal(response.contentType, "text/plain; charset=utf-8");
    assert.equal(response.etag, put.etag);
    assert.equal(response.blobType, "BlockBlob");
    assert.deepEqual(response.metadata, { origin: "js" });
  }));

test("ranged download returns 206 and the requested slice", () =>
  withContainer("js-range", async (container) => {
    const blob = container.getBlockBlobClient("range.bin");
    const data = payload(1000, 7);
    await blob.upload(data, data.length);
    const response = await blob.download(100, 50);
    assert.equal(response._response.status, 206);
    assert.equal(response.contentLength, 50);
    assert.equal(response.contentRange, "bytes 100-149/1000");
    const chunks = [];
    for await (const c of response.readableStreamBody) chunks.push(c);
    assert.deepEqual(Buffer.concat(chunks), data.subarray(100, 150));
  }));

test("empty blob uploads and downloads as zero bytes", () =>
  withContainer("js-empty", async (container) => {
    const blob = container.getBlockBlobClient("empty");
    const put = await blob.upload(Buffer.alloc(0), 0);
    assert.equal(put._response.status, 201);
    const { response, body } = await downloadAll(blob);
    assert.equal(response._response.status, 200);
    assert.equal(body.length, 0);
    assert.equal(response.contentLength, 0);
    const props = await blob.getProperties();
    assert.equal(props.contentLength, 0);
  }));

test("download of a missing blob is 404 BlobNotFound", () =>
  withContainer("js-missing", async (container) => {
    const blob = container.getBlockBlobClient("nope");
    await expectRestError(blob.download(), 404, "BlobNotFound");
    // HEAD has no body; the code must still come in x-ms-error-code.
    await expectRestError(blob.getProperties(), 404, "BlobNotFound");
  }));

test("multi-MB upload through the SDK's block staging round-trips", () =>
  withContainer("js-big", async (container) => {
    const blob = container.getBlockBlobClient("big.bin");
    const data = payload(5 * MiB + 123, 3);
    // A single-shot limit below the size forces Put Block + Put Block List.
    await blob.uploadData(data, { blockSize: 1 * MiB, maxSingleShotSize: 1 * MiB, concurrency: 2 });
    const list = await blob.getBlockList("committed");
    assert.equal(list.committedBlocks.length, 6);
    assert.equal(list.blobContentLength, data.length);
    const { response, body } = await downloadAll(blob);
    assert.equal(response.contentLength, data.length);
    assert.ok(body.equals(data), "downloaded bytes differ from uploaded bytes");
  }));

test("stage, commit and get block list in committed, uncommitted and all views", () =>
  withContainer("js-blocks", async (container) => {
    const blob = container.getBlockBlobClient("blocks.bin");
    const parts = [payload(1000, 11), payload(2000, 12), payload(3000, 13)];
    for (const [i, part] of parts.entries()) {
      const staged = await blob.stageBlock(blockId(i), part, part.length);
      assert.equal(staged._response.status, 201);
    }
    // Staged blocks do not make a blob.
    await expectRestError(blob.getProperties(), 404, "BlobNotFound");
    const before = await blob.getBlockList("uncommitted");
    assert.deepEqual(
      before.uncommittedBlocks.map((b) => [b.name, b.size]),
      parts.map((p, i) => [blockId(i), p.length]),
    );
    assert.equal(before.committedBlocks?.length ?? 0, 0);

    // Commit out of order and leave one block out: the blob is exactly the listed blocks.
    const commit = await blob.commitBlockList([blockId(2), blockId(0)]);
    assert.equal(commit._response.status, 201);
    const { body } = await downloadAll(blob);
    assert.deepEqual(body, Buffer.concat([parts[2], parts[0]]));

    const committed = await blob.getBlockList("committed");
    assert.deepEqual(
      committed.committedBlocks.map((b) => [b.name, b.size]),
      [[blockId(2), 3000], [blockId(0), 1000]],
    );
    assert.equal(committed.blobContentLength, 4000);
    assert.equal(committed.etag, commit.etag);

    // Committing discards the uncommitted blocks that were not used.
    const all = await blob.getBlockList("all");
    assert.equal(all.committedBlocks.length, 2);
    assert.equal(all.uncommittedBlocks?.length ?? 0, 0);

    // A new staged block shows as uncommitted next to the committed list.
    await blob.stageBlock(blockId(9), parts[1], parts[1].length);
    const mixed = await blob.getBlockList("all");
    assert.deepEqual(mixed.committedBlocks.map((b) => b.name), [blockId(2), blockId(0)]);
    assert.deepEqual(mixed.uncommittedBlocks.map((b) => [b.name, b.size]), [[blockId(9), 2000]]);
  }));

test("committing an unknown block id is 400 InvalidBlockList", () =>
  withContainer("js-badlist", async (container) => {
    const blob = container.getBlockBlobClient("bad.bin");
    await blob.stageBlock(blockId(1), Buffer.from("abc"), 3);
    await expectRestError(blob.commitBlockList([blockId(1), blockId(2)]), 400, "InvalidBlockList");
  }));
