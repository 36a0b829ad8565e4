// Queue service through @azure/storage-queue: queues, their metadata and access policies, listing,
// service properties, and what a queue SAS and an account SAS allow. Messages are in
// queue-messages.test.mjs. Every test skips when LAPIS_QUEUE_ENDPOINT is not set.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AccountSASPermissions,
  QueueClient,
  QueueSASPermissions,
  QueueServiceClient,
} from "@azure/storage-queue";
import {
  expectRestError,
  QUEUE_SKIP,
  queueServiceClient,
  uniqueName,
  withQueue,
} from "./lib/env.mjs";

const noRetry = { retryOptions: { maxTries: 1 } };
const qtest = (name, body) => test(name, { skip: QUEUE_SKIP }, body);
// Clock skew between client and server must not make a fresh SAS "not yet valid".
const fiveMinutesAgo = () => new Date(Date.now() - 5 * 60 * 1000);
const inOneHour = () => new Date(Date.now() + 3600 * 1000);

/** A Date truncated to whole seconds, as Azure stores access policy times. */
const toSecond = (d) => new Date(Math.floor(d.getTime() / 1000) * 1000);

qtest("create queue: same metadata again is 204, different metadata is 409 QueueAlreadyExists", async () => {
  const queue = queueServiceClient.getQueueClient(uniqueName("js-qcreate"));
  try {
    const first = await queue.create({ metadata: { color: "blue", size: "2" } });
    assert.equal(first._response.status, 201);

    // Create Queue on an existing queue whose metadata is identical succeeds with 204 No Content.
    const again = await queue.create({ metadata: { color: "blue", size: "2" } });
    assert.equal(again._response.status, 204);

    await expectRestError(queue.create({ metadata: { color: "red", size: "2" } }), 409, "QueueAlreadyExists");
    await expectRestError(queue.create(), 409, "QueueAlreadyExists");
    // The failed creates left the original metadata alone.
    const props = await queue.getProperties();
    assert.deepEqual(props.metadata, { color: "blue", size: "2" });
  } finally {
    await queue.deleteIfExists();
  }
});

qtest("delete queue; a missing queue is 404 QueueNotFound", async () => {
  const queue = queueServiceClient.getQueueClient(uniqueName("js-qdelete"));
  await queue.create();
  const deleted = await queue.delete();
  assert.equal(deleted._response.status, 204);
  await expectRestError(queue.delete(), 404, "QueueNotFound");
  await expectRestError(queue.getProperties(), 404, "QueueNotFound");
  await expectRestError(queue.setMetadata({ a: "b" }), 404, "QueueNotFound");
  await expectRestError(queue.sendMessage("to nowhere"), 404, "QueueNotFound");
  assert.equal(await queue.exists(), false);
});

qtest("get/set metadata and the approximate message count", () =>
  withQueue("js-qmeta", async (queue) => {
    // The SDK leaves `metadata` undefined when the answer has no x-ms-meta-* header.
    let props = await queue.getProperties();
    assert.deepEqual(props.metadata ?? {}, {});
    assert.equal(props.approximateMessagesCount, 0);

    await queue.setMetadata({ owner: "lapis", purpose: "conformance" });
    for (let i = 0; i < 3; i++) await queue.sendMessage(`m${i}`);
    // One message sent invisible still counts: the count is never lower than the real number.
    await queue.sendMessage("later", { visibilityTimeout: 60 });
    props = await queue.getProperties();
    assert.deepEqual(props.metadata, { owner: "lapis", purpose: "conformance" });
    assert.equal(props.approximateMessagesCount, 4);

    // Set Queue Metadata replaces the whole set; with no metadata it clears it.
    await queue.setMetadata({ only: "one" });
    assert.deepEqual((await queue.getProperties()).metadata, { only: "one" });
    await queue.setMetadata();
    assert.deepEqual((await queue.getProperties()).metadata ?? {}, {});
  }));

qtest("get/set access policy round trip", () =>
  withQueue("js-qacl", async (queue) => {
    assert.deepEqual((await queue.getAccessPolicy()).signedIdentifiers, []);
    const startsOn = toSecond(fiveMinutesAgo());
    const expiresOn = toSecond(inOneHour());
    await queue.setAccessPolicy([
      { id: "full-access", accessPolicy: { startsOn, expiresOn, permissions: "raup" } },
      { id: "read-only", accessPolicy: { expiresOn, permissions: "r" } },
    ]);
    const got = (await queue.getAccessPolicy()).signedIdentifiers;
    assert.equal(got.length, 2);
    const byId = Object.fromEntries(got.map((s) => [s.id, s.accessPolicy]));
    assert.equal(byId["full-access"].permissions, "raup");
    assert.equal(byId["full-access"].startsOn.getTime(), startsOn.getTime());
    assert.equal(byId["full-access"].expiresOn.getTime(), expiresOn.getTime());
    assert.equal(byId["read-only"].permissions, "r");
    assert.equal(byId["read-only"].startsOn, undefined);
    assert.equal(byId["read-only"].expiresOn.getTime(), expiresOn.getTime());

    // An empty list removes every policy.
    await queue.setAccessPolicy([]);
    assert.deepEqual((await queue.getAccessPolicy()).signedIdentifiers, []);
  }));

qtest("list queues with prefix, metadata and paging", async () => {
  const prefix = uniqueName("js-qlist").slice(0, 40);
  const names = [0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`);
  const queues = names.map((n) => queueServiceClient.getQueueClient(n));
  try {
    for (const [i, q] of queues.entries()) await q.create({ metadata: { index: String(i) } });

    const pages = [];
    for await (const page of queueServiceClient.listQueues({ prefix, includeMetadata: true }).byPage({ maxPageSize: 2 })) {
      pages.push(page);
    }
    assert.deepEqual(pages.map((p) => (p.queueItems ?? []).length), [2, 2, 1]);
    assert.ok(pages[0].continuationToken, "a full page carries a NextMarker");
    assert.ok(!pages[2].continuationToken, "the last page has no NextMarker");
    const listed = pages.flatMap((p) => p.queueItems);
    assert.deepEqual(listed.map((q) => q.name), names);
    assert.deepEqual(listed.map((q) => q.metadata?.index), ["0", "1", "2", "3", "4"]);

    // Without include=metadata the metadata is absent; a prefix matching nothing lists nothing.
    const plain = [];
    for await (const q of queueServiceClient.listQueues({ prefix })) plain.push(q);
    assert.equal(plain.length, 5);
    assert.equal(plain[0].metadata, undefined);
    const none = [];
    for await (const q of queueServiceClient.listQueues({ prefix: `${prefix}-x` })) none.push(q);
    assert.deepEqual(none, []);
  } finally {
    for (const q of queues) await q.deleteIfExists();
  }
});

qtest("service properties round trip", async () => {
  const original = await queueServiceClient.getProperties();
  const wanted = {
    queueAnalyticsLogging: {
      version: "1.0",
      deleteProperty: true,
      read: false,
      write: true,
      retentionPolicy: { enabled: true, days: 5 },
    },
    hourMetrics: { version: "1.0", enabled: true, includeAPIs: true, retentionPolicy: { enabled: true, days: 3 } },
    minuteMetrics: { version: "1.0", enabled: false, retentionPolicy: { enabled: false } },
    cors: [
      {
        allowedOrigins: "http://example.com",
        allowedMethods: "GET,PUT",
        allowedHeaders: "x-ms-meta-*",
        exposedHeaders: "x-ms-request-id",
        maxAgeInSeconds: 60,
      },
    ],
  };
  try {
    const set = await queueServiceClient.setProperties(wanted);
    assert.equal(set._response.status, 202);
    const got = await queueServiceClient.getProperties();
    assert.deepEqual(got.queueAnalyticsLogging, wanted.queueAnalyticsLogging);
    assert.deepEqual(got.hourMetrics, wanted.hourMetrics);
    assert.equal(got.minuteMetrics.enabled, false);
    assert.equal(got.minuteMetrics.retentionPolicy.enabled, false);
    assert.deepEqual(got.cors, wanted.cors);
  } finally {
    await queueServiceClient.setProperties({
      queueAnalyticsLogging: original.queueAnalyticsLogging,
      hourMetrics: original.hourMetrics,
      minuteMetrics: original.minuteMetrics,
      cors: original.cors ?? [],
    });
  }
});

qtest("queue SAS with only add can send but not receive or peek", () =>
  withQueue("js-qsas", async (queue) => {
    const url = queue.generateSasUrl({
      permissions: QueueSASPermissions.parse("a"),
      startsOn: fiveMinutesAgo(),
      expiresOn: inOneHour(),
    });
    const viaSas = new QueueClient(url, undefined, noRetry);
    const sent = await viaSas.sendMessage("added through a SAS");
    assert.equal(sent._response.status, 201);
    await expectRestError(viaSas.receiveMessages(), 403, "AuthorizationPermissionMismatch");
    await expectRestError(viaSas.peekMessages(), 403, "AuthorizationPermissionMismatch");
    // No queue SAS can clear a queue; whether Azure names that AuthorizationFailure or
    // AuthorizationPermissionMismatch is not recorded, so only the status is asserted.
    await expectRestError(viaSas.clearMessages(), 403);

    const peeked = await queue.peekMessages();
    assert.deepEqual(peeked.peekedMessageItems.map((m) => m.messageText), ["added through a SAS"]);
  }));

qtest("queue SAS with read and process receives and deletes", () =>
  withQueue("js-qsas-rp", async (queue) => {
    await queue.sendMessage("for the reader");
    const url = queue.generateSasUrl({
      permissions: QueueSASPermissions.parse("rp"),
      startsOn: fiveMinutesAgo(),
      expiresOn: inOneHour(),
    });
    const viaSas = new QueueClient(url, undefined, noRetry);
    assert.equal((await viaSas.peekMessages()).peekedMessageItems.length, 1);
    const [got] = (await viaSas.receiveMessages()).receivedMessageItems;
    assert.equal(got.messageText, "for the reader");
    await viaSas.deleteMessage(got.messageId, got.popReceipt);
    await expectRestError(viaSas.sendMessage("no add"), 403, "AuthorizationPermissionMismatch");
    assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
  }));

qtest("account SAS for the queue service creates, lists, sends, receives and deletes", async () => {
  const url = queueServiceClient.generateAccountSasUrl(
    inOneHour(),
    AccountSASPermissions.parse("rwdlacup"),
    "sco",
    { startsOn: fiveMinutesAgo() },
  );
  const viaSas = new QueueServiceClient(url, undefined, noRetry);
  const name = uniqueName("js-qasas");
  const queue = viaSas.getQueueClient(name);
  try {
    assert.equal((await queue.create())._response.status, 201);
    const listed = [];
    for await (const q of viaSas.listQueues({ prefix: name })) listed.push(q.name);
    assert.deepEqual(listed, [name]);
    await queue.sendMessage("via account SAS");
    const [got] = (await queue.receiveMessages()).receivedMessageItems;
    assert.equal(got.messageText, "via account SAS");
    await queue.deleteMessage(got.messageId, got.popReceipt);
    assert.equal((await queue.delete())._response.status, 204);
  } finally {
    await queueServiceClient.getQueueClient(name).deleteIfExists();
  }
});

qtest("account SAS for the service resource type only cannot create a queue", async () => {
  const url = queueServiceClient.generateAccountSasUrl(
    inOneHour(),
    AccountSASPermissions.parse("rwdlacup"),
    "s",
    { startsOn: fiveMinutesAgo() },
  );
  const viaSas = new QueueServiceClient(url, undefined, noRetry);
  const name = uniqueName("js-qasas-s");
  try {
    const listed = [];
    for await (const q of viaSas.listQueues({ prefix: name })) listed.push(q);
    assert.deepEqual(listed, []);
    await expectRestError(viaSas.getQueueClient(name).create(), 403, "AuthorizationResourceTypeMismatch");
  } finally {
    await queueServiceClient.getQueueClient(name).deleteIfExists();
  }
});
