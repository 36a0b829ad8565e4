// The JS SDKs against a Lapis serving HTTPS with a certificate run.sh made: it sets
// LAPIS_HTTPS_CONNECTION_STRING, and NODE_EXTRA_CA_CERTS to the test authority, which Node then
// trusts for every TLS connection. A blob, a table entity and a queue message round trip.
// The packages are conformance/js's (installed there by `npm ci`), loaded from that folder.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(new URL("../js/package.json", import.meta.url));
const { BlobServiceClient } = require("@azure/storage-blob");
const { TableServiceClient, TableClient } = require("@azure/data-tables");
const { QueueServiceClient } = require("@azure/storage-queue");

const CONN = process.env.LAPIS_HTTPS_CONNECTION_STRING;
if (!CONN || !process.env.NODE_EXTRA_CA_CERTS) {
  // A suite that silently skips looks green in CI; refuse to run instead.
  throw new Error("LAPIS_HTTPS_CONNECTION_STRING and NODE_EXTRA_CA_CERTS are not set: run conformance/https/run.sh");
}
const options = { retryOptions: { maxTries: 1 } };
const unique = (prefix) => `${prefix}${randomBytes(6).toString("hex")}`;

test("the connection string is https", () => {
  assert.match(CONN, /DefaultEndpointsProtocol=https;/);
  assert.match(CONN, /BlobEndpoint=https:\/\//);
});

test("blob upload and download over https", async () => {
  const service = BlobServiceClient.fromConnectionString(CONN, options);
  const container = service.getContainerClient(unique("https"));
  await container.create();
  try {
    const blob = container.getBlockBlobClient("hello.txt");
    assert.match(blob.url, /^https:\/\//);
    await blob.upload("hello over TLS", 14);
    assert.equal((await blob.downloadToBuffer()).toString(), "hello over TLS");
  } finally {
    await container.delete();
  }
});

test("table insert and get over https", async () => {
  const name = unique("https");
  const service = TableServiceClient.fromConnectionString(CONN, { ...options, allowInsecureConnection: false });
  await service.createTable(name);
  try {
    const table = TableClient.fromConnectionString(CONN, name, options);
    assert.match(table.url, /^https:\/\//);
    await table.createEntity({ partitionKey: "p", rowKey: "r", value: 42 });
    const got = await table.getEntity("p", "r");
    assert.equal(got.value, 42);
  } finally {
    await service.deleteTable(name);
  }
});

test("queue put and get over https", async () => {
  const service = QueueServiceClient.fromConnectionString(CONN, options);
  const queue = service.getQueueClient(unique("https"));
  await queue.create();
  try {
    assert.match(queue.url, /^https:\/\//);
    await queue.sendMessage("hello over TLS");
    const got = await queue.receiveMessages();
    assert.equal(got.receivedMessageItems.length, 1);
    assert.equal(got.receivedMessageItems[0].messageText, "hello over TLS");
  } finally {
    await queue.delete();
  }
});
