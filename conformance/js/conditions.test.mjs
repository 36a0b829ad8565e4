// Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) on blob
// writes and reads. Expected answers follow the real-Azure recordings in
// shared/azure-recordings/blob/Test (e.g. TestBlobPutBlobIfNoneMatchFalse, TestBlobDownloadDataIfNoneMatchFalse).
import { test } from "node:test";
import assert from "node:assert/strict";
import { blockId, downloadAll, expectRestError, withContainer } from "./lib/env.mjs";

const HOUR = 3600 * 1000;
const WRONG_ETAG = '"0x8DA0000000000000"';

/** Uploads a small blob and returns its client and the upload response. */
async function seeded(container, name = "cond.txt") {
  const blob = container.getBlockBlobClient(name);
  const put = await blob.upload("v1", 2);
  return { blob, put };
}

test("upload with ifNoneMatch '*' creates a new blob and refuses an existing one", () =>
  withContainer("js-inm-star", async (container) => {
    const blob = container.getBlockBlobClient("once.txt");
    const first = await blob.upload("v1", 2, { conditions: { ifNoneMatch: "*" } });
    assert.equal(first._response.status, 201);
    await expectRestError(
      blob.upload("v2", 2, { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
    const { body } = await downloadAll(blob);
    assert.equal(body.toString(), "v1", "a refused write must not change the blob");
  }));

test("upload with ifMatch succeeds on the current etag and fails on a stale one", () =>
  withContainer("js-im", async (container) => {
    const { blob, put } = await seeded(container);
    const second = await blob.upload("v2", 2, { conditions: { ifMatch: put.etag } });
    assert.equal(second._response.status, 201);
    assert.notEqual(second.etag, put.etag, "a write must change the etag");
    await expectRestError(
      blob.upload("v3", 2, { conditions: { ifMatch: put.etag } }),
      412,
      "ConditionNotMet",
    );
    await expectRestError(
      blob.upload("v3", 2, { conditions: { ifMatch: WRONG_ETAG } }),
      412,
      "ConditionNotMet",
    );
  }));

test("upload with ifMatch on a missing blob is 412 ConditionNotMet, even for '*'", () =>
  withContainer("js-im-missing", async (container) => {
    const blob = container.getBlockBlobClient("absent.txt");
    // If-Match names an existing representation; a missing blob fails it (Azure/Azurite#2589).
    for (const ifMatch of [WRONG_ETAG, "*"]) {
      await expectRestError(
        blob.upload("x", 1, { conditions: { ifMatch } }),
        412,
        "ConditionNotMet",
      );
    }
    assert.equal(await blob.exists(), false);
    await blob.upload("v1", 2);
    const overwrite = await blob.upload("v2", 2, { conditions: { ifMatch: "*" } });
    assert.equal(overwrite._response.status, 201);
  }));

test("upload with ifNoneMatch on the current etag is 412 ConditionNotMet", () =>
  withContainer("js-inm", async (container) => {
    const { blob, put } = await seeded(container);
    await expectRestError(
      blob.upload("v2", 2, { conditions: { ifNoneMatch: put.etag } }),
      412,
      "ConditionNotMet",
    );
  }));

test("commit block list with ifNoneMatch '*' over an existing blob is 409 BlobAlreadyExists", () =>
  withContainer("js-bl-inm", async (container) => {
    const { blob } = await seeded(container);
    await blob.stageBlock(blockId(0), Buffer.from("new"), 3);
    await expectRestError(
      blob.commitBlockList([blockId(0)], { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
  }));

test("upload with ifUnmodifiedSince before the last write is 412 ConditionNotMet", () =>
  withContainer("js-ius", async (container) => {
    const { blob, put } = await seeded(container);
    const before = new Date(put.lastModified.getTime() - HOUR);
    await expectRestError(
      blob.upload("v2", 2, { conditions: { ifUnmodifiedSince: before } }),
      412,
      "ConditionNotMet",
    );
    const after = new Date(put.lastModified.getTime() + HOUR);
    const ok = await blob.upload("v2", 2, { conditions: { ifUnmodifiedSince: after } });
    assert.equal(ok._response.status, 201);
  }));

test("download with ifNoneMatch on the current etag is 304", () =>
  withContainer("js-get-inm", async (container) => {
    const { blob, put } = await seeded(container);
    // Azure labels even a 304 with x-ms-error-code: ConditionNotMet (TestBlobDownloadDataIfNoneMatchFalse).
    await expectRestError(
      blob.download(0, undefined, { conditions: { ifNoneMatch: put.etag } }),
      304,
      "ConditionNotMet",
    );
    const fresh = await blob.download(0, undefined, { conditions: { ifNoneMatch: WRONG_ETAG } });
    assert.equal(fresh._response.status, 200);
  }));

test("download with ifModifiedSince after the last write is 304, before it is 200", () =>
  withContainer("js-get-ims", async (container) => {
    const { blob, put } = await seeded(container);
    const later = new Date(put.lastModified.getTime() + HOUR);
    await expectRestError(
      blob.download(0, undefined, { conditions: { ifModifiedSince: later } }),
      304,
      "ConditionNotMet",
    );
    // HEAD behaves the same (TestBlobGetPropsAndMetadataIfModifiedSinceFalse).
    await expectRestError(
      blob.getProperties({ conditions: { ifModifiedSince: later } }),
      304,
      "ConditionNotMet",
    );
    const earlier = new Date(put.lastModified.getTime() - HOUR);
    const ok = await blob.download(0, undefined, { conditions: { ifModifiedSince: earlier } });
    assert.equal(ok._response.status, 200);
  }));

test("download and get properties with a stale ifMatch are 412 ConditionNotMet", () =>
  withContainer("js-get-im", async (container) => {
    const { blob, put } = await seeded(container);
    const ok = await blob.download(0, undefined, { conditions: { ifMatch: put.etag } });
    assert.equal(ok._response.status, 200);
    await expectRestError(
      blob.download(0, undefined, { conditions: { ifMatch: WRONG_ETAG } }),
      412,
      "ConditionNotMet",
    );
    await expectRestError(
      blob.getProperties({ conditions: { ifMatch: WRONG_ETAG } }),
      412,
      "ConditionNotMet",
    );
  }));

test("delete with a stale ifMatch is 412 and leaves the blob", () =>
  withContainer("js-del-im", async (container) => {
    const { blob, put } = await seeded(container);
    await expectRestError(
      blob.delete({ conditions: { ifMatch: WRONG_ETAG } }),
      412,
      "ConditionNotMet",
    );
    assert.equal(await blob.exists(), true);
    const deleted = await blob.delete({ conditions: { ifMatch: put.etag } });
    assert.equal(deleted._response.status, 202);
    assert.equal(await blob.exists(), false);
  }));
