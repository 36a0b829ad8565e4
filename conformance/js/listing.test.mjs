// List Blobs: flat, hierarchical with a delimiter, prefix filtering, and paging with maxPageSize.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectRestError, serviceClient, uniqueName, withContainer } from "./lib/env.mjs";

const NAMES = [
  "a.txt",
  "dir1/x.txt",
  "dir1/y.txt",
  "dir1/sub/z.txt",
  "dir2/w.txt",
  "log-01",
  "log-02",
  "log-10",
  "zeta",
];

async function fill(container, names) {
  for (const name of names) {
    await container.getBlockBlobClient(name).upload(name, name.length);
  }
}

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

test("flat listing returns every blob in lexical order with its properties", () =>
  withContainer("js-flat", async (container) => {
    await fill(container, NAMES);
    const blobs = await collect(container.listBlobsFlat({ includeMetadata: true }));
    assert.deepEqual(blobs.map((b) => b.name), [...NAMES].sort());
    const dirX = blobs.find((b) => b.name === "dir1/x.txt");
    assert.equal(dirX.properties.contentLength, "dir1/x.txt".length);
    assert.equal(dirX.properties.blobType, "BlockBlob");
    assert.match(dirX.properties.etag, /^"?0x[0-9A-F]+"?$/);
  }));

test("flat listing with a prefix returns only matching names", () =>
  withContainer("js-prefix", async (container) => {
    await fill(container, NAMES);
    const logs = await collect(container.listBlobsFlat({ prefix: "log-0" }));
    assert.deepEqual(logs.map((b) => b.name), ["log-01", "log-02"]);
    const none = await collect(container.listBlobsFlat({ prefix: "nothing/" }));
    assert.deepEqual(none, []);
  }));

test("hierarchical listing folds names at the delimiter into prefixes", () =>
  withContainer("js-hier", async (container) => {
    await fill(container, NAMES);
    const page = (await container.listBlobsByHierarchy("/").byPage().next()).value;
    assert.deepEqual(
      page.segment.blobItems.map((b) => b.name),
      ["a.txt", "log-01", "log-02", "log-10", "zeta"],
    );
    assert.deepEqual(page.segment.blobPrefixes.map((p) => p.name), ["dir1/", "dir2/"]);
    assert.equal(page.delimiter, "/");

    const dir1 = (await container.listBlobsByHierarchy("/", { prefix: "dir1/" }).byPage().next())
      .value;
    assert.deepEqual(dir1.segment.blobItems.map((b) => b.name), ["dir1/x.txt", "dir1/y.txt"]);
    assert.deepEqual(dir1.segment.blobPrefixes.map((p) => p.name), ["dir1/sub/"]);
    assert.equal(dir1.prefix, "dir1/");
  }));

test("paging with maxPageSize walks more than ten blobs via continuation tokens", () =>
  withContainer("js-pages", async (container) => {
    const names = Array.from({ length: 12 }, (_, i) => `item-${String(i).padStart(2, "0")}`);
    await fill(container, names);
    const pages = [];
    for await (const page of container.listBlobsFlat().byPage({ maxPageSize: 5 })) {
      pages.push(page);
    }
    assert.deepEqual(pages.map((p) => p.segment.blobItems.length), [5, 5, 2]);
    assert.deepEqual(pages.flatMap((p) => p.segment.blobItems.map((b) => b.name)), names);
    assert.equal(pages[0].maxPageSize, 5);
    assert.ok(pages[0].continuationToken, "first page must carry a NextMarker");
    assert.ok(pages[1].continuationToken, "second page must carry a NextMarker");
    assert.ok(!pages[2].continuationToken, "last page must have an empty NextMarker");

    // Resuming from a token starts exactly after the previous page.
    const resumedPages = container
      .listBlobsFlat()
      .byPage({ maxPageSize: 4, continuationToken: pages[0].continuationToken });
    const resumed = (await resumedPages.next()).value;
    assert.deepEqual(resumed.segment.blobItems.map((b) => b.name), names.slice(5, 9));
  }));

test("listing a missing container is 404 ContainerNotFound", async () => {
  const container = serviceClient.getContainerClient(uniqueName("js-gone"));
  await expectRestError(container.listBlobsFlat().byPage().next(), 404, "ContainerNotFound");
});
