// Queue messages through @azure/storage-queue: send, receive, peek, update, delete, clear, the
// 64 KiB limit, and the clocks behind visibility timeouts and time-to-live. Queues themselves are in
// queue.test.mjs. Every test skips when LAPIS_QUEUE_ENDPOINT is not set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { expectRestError, QUEUE_SKIP, TARGET_IS_AZURITE, withQueue } from "./lib/env.mjs";

const qtest = (name, body) => test(name, { skip: QUEUE_SKIP }, body);
const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;

/** Asserts that `date` is `seconds` after `from`, within one second (Azure's times are whole seconds). */
function assertAfter(date, from, seconds, what) {
  const delta = (date.getTime() - from.getTime()) / SECOND;
  assert.ok(Math.abs(delta - seconds) <= 1, `${what}: ${delta}s after, want ${seconds}s`);
}

async function peekAll(queue) {
  return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
}

qtest("send: ids, times, visibility timeout, default TTL, TTL -1 never expires", () =>
  withQueue("js-msend", async (queue) => {
    const plain = await queue.sendMessage("hello");
    assert.equal(plain._response.status, 201);
    assert.match(plain.messageId, /\S/);
    assert.match(plain.popReceipt, /\S/);
    // Default TTL is 7 days; a message without a visibility timeout is visible at once.
    assertAfter(plain.expiresOn, plain.insertedOn, 7 * DAY / SECOND, "default expiry");
    assertAfter(plain.nextVisibleOn, plain.insertedOn, 0, "next visible");

    const hidden = await queue.sendMessage("hidden", { visibilityTimeout: 60 });
    assertAfter(hidden.nextVisibleOn, hidden.insertedOn, 60, "visibility timeout");
    const hour = await queue.sendMessage("an hour", { messageTimeToLive: 3600 });
    assertAfter(hour.expiresOn, hour.insertedOn, 3600, "TTL 3600");
    const forever = await queue.sendMessage("forever", { messageTimeToLive: -1 });
    // A message that never expires reports the greatest time Azure has: 9999-12-31T23:59:59Z.
    assert.equal(forever.expiresOn.toISOString(), "9999-12-31T23:59:59.000Z");

    const peeked = await peekAll(queue);
    assert.deepEqual(peeked.map((m) => m.messageText), ["hello", "an hour", "forever"]);
    assert.equal(peeked[0].messageId, plain.messageId);
    assert.equal(peeked[2].expiresOn.toISOString(), "9999-12-31T23:59:59.000Z");
    assert.ok(peeked.every((m) => m.dequeueCount === 0));
  }));

qtest("receive: count, visibility timeout, dequeue count, pop receipt", () =>
  withQueue("js-mrecv", async (queue) => {
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await queue.sendMessage(`m${i}`)).messageId);

    const before = Date.now();
    const first = (await queue.receiveMessages({ numberOfMessages: 3, visibilityTimeout: 30 })).receivedMessageItems;
    assert.equal(first.length, 3);
    for (const m of first) {
      assert.ok(sent.includes(m.messageId), `received an unknown id ${m.messageId}`);
      assert.equal(m.messageText, `m${sent.indexOf(m.messageId)}`);
      assert.equal(m.dequeueCount, 1);
      assert.match(m.popReceipt, /\S/);
      const inSeconds = (m.nextVisibleOn.getTime() - before) / SECOND;
      assert.ok(inSeconds > 25 && inSeconds < 35, `next visible in ${inSeconds}s, want ~30s`);
    }
    assert.equal(new Set(first.map((m) => m.messageId)).size, 3);

    // Only the two still visible come back, however many are asked for.
    const rest = (await queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    assert.equal(rest.length, 2);
    assert.deepEqual(
      [...first, ...rest].map((m) => m.messageId).sort(),
      [...sent].sort(),
    );
    assert.equal((await queue.receiveMessages()).receivedMessageItems.length, 0);
    assert.deepEqual(await peekAll(queue), []);
    // Invisible messages are still in the queue and counted.
    assert.equal((await queue.getProperties()).approximateMessagesCount, 5);

    await expectRestError(queue.receiveMessages({ numberOfMessages: 33 }), 400, "OutOfRangeQueryParameterValue");
    // numofmessages must be 1 to 32. Azurite answers 0 with a bare 400 (no error code, no body), so
    // on Azurite only the status is asserted for it.
    const zeroCode = TARGET_IS_AZURITE ? undefined : "OutOfRangeQueryParameterValue";
    await expectRestError(queue.receiveMessages({ numberOfMessages: 0 }), 400, zeroCode);
  }));

qtest("peek: leaves dequeue count and visibility alone", () =>
  withQueue("js-mpeek", async (queue) => {
    for (const text of ["a", "b", "c"]) await queue.sendMessage(text);
    const two = (await queue.peekMessages({ numberOfMessages: 2 })).peekedMessageItems;
    assert.deepEqual(two.map((m) => m.messageText), ["a", "b"]);
    assert.ok(two.every((m) => m.dequeueCount === 0));
    assert.equal(two[0].popReceipt, undefined);

    const [got] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
    assert.equal(got.messageText, "a");
    const after = await peekAll(queue);
    assert.deepEqual(after.map((m) => m.messageText), ["b", "c"]);
    assert.ok(after.every((m) => m.dequeueCount === 0));
    await expectRestError(queue.peekMessages({ numberOfMessages: 33 }), 400, "OutOfRangeQueryParameterValue");
  }));

qtest("update: content and visibility, new pop receipt, stale receipt is 400 PopReceiptMismatch", () =>
  withQueue("js-mupdate", async (queue) => {
    await queue.sendMessage("v1");
    const [r1] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;

    // Visibility 0 makes it visible again at once, with the new content.
    const u1 = await queue.updateMessage(r1.messageId, r1.popReceipt, "v2", 0);
    assert.equal(u1._response.status, 204);
    assert.match(u1.popReceipt, /\S/);
    assert.notEqual(u1.popReceipt, r1.popReceipt);
    let [peeked] = await peekAll(queue);
    assert.equal(peeked.messageText, "v2");
    assert.equal(peeked.dequeueCount, 1);

    // The receipt the update replaced no longer works.
    await expectRestError(queue.updateMessage(r1.messageId, r1.popReceipt, "v3", 0), 400, "PopReceiptMismatch");
    assert.equal((await peekAll(queue))[0].messageText, "v2");

    // Visibility only: the content stays, the message hides for the new timeout.
    const u2 = await queue.updateMessage(r1.messageId, u1.popReceipt, undefined, 60);
    assert.ok(u2.nextVisibleOn.getTime() - Date.now() > 50 * SECOND);
    assert.deepEqual(await peekAll(queue), []);
    const u3 = await queue.updateMessage(r1.messageId, u2.popReceipt, undefined, 0);
    [peeked] = await peekAll(queue);
    assert.equal(peeked.messageText, "v2");

    // The latest receipt deletes it; then the queue is empty.
    const [r2] = (await queue.receiveMessages()).receivedMessageItems;
    assert.equal(r2.messageText, "v2");
    assert.equal(r2.dequeueCount, 2);
    assert.notEqual(r2.popReceipt, u3.popReceipt);
    await queue.deleteMessage(r2.messageId, r2.popReceipt);
    assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
  }));

qtest("delete message: unknown id is 404 MessageNotFound; clear empties the queue", () =>
  withQueue("js-mdelete", async (queue) => {
    await queue.sendMessage("to delete");
    const [got] = (await queue.receiveMessages()).receivedMessageItems;
    await expectRestError(queue.deleteMessage(randomUUID(), got.popReceipt), 404, "MessageNotFound");
    const deleted = await queue.deleteMessage(got.messageId, got.popReceipt);
    assert.equal(deleted._response.status, 204);
    await expectRestError(queue.deleteMessage(got.messageId, got.popReceipt), 404, "MessageNotFound");

    for (let i = 0; i < 10; i++) await queue.sendMessage(`c${i}`, { visibilityTimeout: i % 2 ? 60 : 0 });
    assert.equal((await queue.getProperties()).approximateMessagesCount, 10);
    const cleared = await queue.clearMessages();
    assert.equal(cleared._response.status, 204);
    assert.deepEqual(await peekAll(queue), []);
    assert.equal((await queue.getProperties()).approximateMessagesCount, 0);
  }));

qtest("a 64 KiB message fits; one byte more is 413 RequestBodyTooLarge", () =>
  withQueue("js-mlarge", async (queue) => {
    const max = "x".repeat(64 * 1024);
    await queue.sendMessage(max);
    const [got] = (await queue.receiveMessages()).receivedMessageItems;
    assert.equal(got.messageText.length, max.length);
    assert.equal(got.messageText, max);

    await expectRestError(queue.sendMessage(`${max}x`), 413, "RequestBodyTooLarge");
    // Update Message carries the same limit.
    await expectRestError(queue.updateMessage(got.messageId, got.popReceipt, `${max}x`, 0), 413, "RequestBodyTooLarge");
    assert.equal((await queue.getProperties()).approximateMessagesCount, 1);
  }));

qtest("visibility timeout expiry: a received message reappears with dequeue count 2", () =>
  withQueue("js-mvis", async (queue) => {
    const sent = await queue.sendMessage("comes back");
    const [r1] = (await queue.receiveMessages({ visibilityTimeout: 1 })).receivedMessageItems;
    assert.equal(r1.messageId, sent.messageId);
    assert.equal((await queue.receiveMessages()).receivedMessageItems.length, 0);

    await sleep(2 * SECOND);
    const [r2] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
    assert.ok(r2, "the message is visible again once its visibility timeout has passed");
    assert.equal(r2.messageId, sent.messageId);
    assert.equal(r2.messageText, "comes back");
    assert.equal(r2.dequeueCount, 2);
    assert.notEqual(r2.popReceipt, r1.popReceipt);
    await queue.deleteMessage(r2.messageId, r2.popReceipt);
  }));

qtest("time-to-live: a 1 s message is gone after 2 s, a TTL -1 one stays", () =>
  withQueue("js-mttl", async (queue) => {
    const short = await queue.sendMessage("short-lived", { messageTimeToLive: 1 });
    assertAfter(short.expiresOn, short.insertedOn, 1, "TTL 1");
    await queue.sendMessage("forever", { messageTimeToLive: -1 });

    await sleep(2 * SECOND);
    assert.deepEqual((await peekAll(queue)).map((m) => m.messageText), ["forever"]);
    const got = (await queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    assert.deepEqual(got.map((m) => m.messageText), ["forever"]);
  }));
