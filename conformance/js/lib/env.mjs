// Shared fixture for the JS conformance suite: where the server is, how to reach it, and how to
// assert Azure's errors. Every test file imports this module, so a missing endpoint fails them all.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";

export const ACCOUNT_NAME = "devstoreaccount1";
export const ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const rawEndpoint = process.env.LAPIS_BLOB_ENDPOINT;
if (!rawEndpoint) {
  // A suite that silently skips looks green in CI; refuse to run instead.
  throw new Error(
    "LAPIS_BLOB_ENDPOINT is not set. Point it at the Blob endpoint under test, " +
      "e.g. LAPIS_BLOB_ENDPOINT=http://127.0.0.1:10000/devstoreaccount1 (run.sh sets it).",
  );
}

/** Blob endpoint with the account in the path, without a trailing slash. */
export const BLOB_ENDPOINT = rawEndpoint.replace(/\/+$/, "");

/** True when the target is Azurite, used only to skip assertions where Azurite departs from Azure. */
export const TARGET_IS_AZURITE = process.env.LAPIS_TARGET === "azurite";

export const CONNECTION_STRING =
  `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};` +
  `AccountKey=${ACCOUNT_KEY};BlobEndpoint=${BLOB_ENDPOINT};`;

export const sharedKey = new StorageSharedKeyCredential(ACCOUNT_NAME, ACCOUNT_KEY);

/**
 * Queue endpoint with the account in the path, without a trailing slash (LAPIS_QUEUE_ENDPOINT, e.g.
 * http://127.0.0.1:10001/devstoreaccount1), or undefined when it is not set: the queue tests then skip,
 * so a Blob-only run stays green.
 */
export const QUEUE_ENDPOINT = process.env.LAPIS_QUEUE_ENDPOINT
  ? process.env.LAPIS_QUEUE_ENDPOINT.replace(/\/+$/, "")
  : undefined;

/** Connection string for the Queue endpoint, or undefined without LAPIS_QUEUE_ENDPOINT. */
export const QUEUE_CONNECTION_STRING = QUEUE_ENDPOINT
  ? `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};` +
    `AccountKey=${ACCOUNT_KEY};QueueEndpoint=${QUEUE_ENDPOINT};`
  : undefined;

// No retries: a retried request would hide the first answer, which is the one we assert.
export const serviceClient = BlobServiceClient.fromConnectionString(CONNECTION_STRING, {
  retryOptions: { maxTries: 1 },
});

/** The account of LAPIS_FEATURES_ENDPOINT: blob versioning and container soft delete on (conformance/accounts.json). */
export const FEATURES_ACCOUNT_NAME = "lapisfeatures";

/**
 * Blob endpoint of an account with versioning on, account in the path, without a trailing slash
 * (LAPIS_FEATURES_ENDPOINT, e.g. http://127.0.0.1:10000/lapisfeatures; same key as devstoreaccount1),
 * or undefined when it is not set: Azurite has no such switches, so those tests then skip.
 */
export const FEATURES_ENDPOINT = process.env.LAPIS_FEATURES_ENDPOINT
  ? process.env.LAPIS_FEATURES_ENDPOINT.replace(/\/+$/, "")
  : undefined;

/** The `skip` option of every test of LAPIS_FEATURES_ENDPOINT: a reason when it is not set, else false. */
export const FEATURES_SKIP = FEATURES_ENDPOINT
  ? false
  : "LAPIS_FEATURES_ENDPOINT is not set (Azurite has no blob versioning)";

/** Shared Key client for LAPIS_FEATURES_ENDPOINT (no retries), or undefined without it. */
export const featuresServiceClient = FEATURES_ENDPOINT
  ? BlobServiceClient.fromConnectionString(
      `DefaultEndpointsProtocol=http;AccountName=${FEATURES_ACCOUNT_NAME};` +
        `AccountKey=${ACCOUNT_KEY};BlobEndpoint=${FEATURES_ENDPOINT};`,
      { retryOptions: { maxTries: 1 } },
    )
  : undefined;

/** The account of LAPIS_SOFT_DELETE_ENDPOINT: container soft delete on, versioning off (conformance/accounts.json). */
export const SOFT_DELETE_ACCOUNT_NAME = "lapissoftdelete";

/**
 * Blob endpoint of an account with container soft delete on and versioning off, account in the path,
 * without a trailing slash (LAPIS_SOFT_DELETE_ENDPOINT, e.g. http://127.0.0.1:10000/lapissoftdelete;
 * same key as devstoreaccount1), or undefined when it is not set: Azurite keeps nothing deleted, so
 * the soft delete tests then skip.
 */
export const SOFT_DELETE_ENDPOINT = process.env.LAPIS_SOFT_DELETE_ENDPOINT
  ? process.env.LAPIS_SOFT_DELETE_ENDPOINT.replace(/\/+$/, "")
  : undefined;

/** The `skip` option of every test of LAPIS_SOFT_DELETE_ENDPOINT: a reason when it is not set, else false. */
export const SOFT_DELETE_SKIP = SOFT_DELETE_ENDPOINT
  ? false
  : "LAPIS_SOFT_DELETE_ENDPOINT is not set (Azurite has no blob or container soft delete)";

/** Shared Key client for LAPIS_SOFT_DELETE_ENDPOINT (no retries), or undefined without it. */
export const softDeleteServiceClient = SOFT_DELETE_ENDPOINT
  ? BlobServiceClient.fromConnectionString(
      `DefaultEndpointsProtocol=http;AccountName=${SOFT_DELETE_ACCOUNT_NAME};` +
        `AccountKey=${ACCOUNT_KEY};BlobEndpoint=${SOFT_DELETE_ENDPOINT};`,
      { retryOptions: { maxTries: 1 } },
    )
  : undefined;

/** The `skip` option of every queue test: a reason when LAPIS_QUEUE_ENDPOINT is not set, else false. */
export const QUEUE_SKIP = QUEUE_ENDPOINT ? false : "LAPIS_QUEUE_ENDPOINT is not set";

/** Shared Key client for the Queue service (no retries), or undefined without LAPIS_QUEUE_ENDPOINT. */
export const queueServiceClient = QUEUE_CONNECTION_STRING
  ? QueueServiceClient.fromConnectionString(QUEUE_CONNECTION_STRING, { retryOptions: { maxTries: 1 } })
  : undefined;

/**
 * Creates a fresh queue, runs `body` with its client, and deletes the queue afterwards even when
 * the body fails.
 */
export async function withQueue(prefix, body) {
  const queue = queueServiceClient.getQueueClient(uniqueName(prefix));
  await queue.create();
  try {
    return await body(queue);
  } finally {
    await queue.deleteIfExists();
  }
}

/** A container or queue name unique to this run and call (lowercase, 3-63 chars, as Azure requires). */
export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`.slice(0, 63);
}

/**
 * Creates a fresh container (in `service`'s account, devstoreaccount1 unless given), runs `body`
 * with its client, and deletes the container afterwards even when the body fails.
 */
export async function withContainer(prefix, body, service = serviceClient) {
  const container = service.getContainerClient(uniqueName(prefix));
  await container.create();
  try {
    return await body(container);
  } finally {
    await container.deleteIfExists();
  }
}

/**
 * Awaits `promise`, expects it to fail with HTTP `status`, and, when `code` is given, with that
 * Azure error code. The code is taken from the `x-ms-error-code` header, which Azure sends even on
 * HEAD and 304 responses that have no body.
 */
export async function expectRestError(promise, status, code) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected a ${status}${code ? ` ${code}` : ""} error, but the call succeeded`);
  assert.equal(error.statusCode, status, `status (error: ${error.message})`);
  if (code !== undefined) {
    assert.equal(errorCode(error), code, `x-ms-error-code (status ${error.statusCode})`);
  }
  return error;
}

/** The Azure error code of a RestError, from the response header first, then the parsed body. */
export function errorCode(error) {
  const header = error.response?.headers?.get?.("x-ms-error-code");
  return header ?? error.details?.errorCode ?? error.code;
}

/** Deterministic pseudo-random bytes so a corrupted download cannot match by accident. */
export function payload(size, seed = 1) {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Base64 block id of fixed width, as Azure requires all ids of one blob to have the same length. */
export function blockId(n) {
  return Buffer.from(`block-${String(n).padStart(6, "0")}`).toString("base64");
}

/** Downloads a whole blob into a Buffer. */
export async function downloadAll(blobClient, options) {
  const response = await blobClient.download(0, undefined, options);
  const chunks = [];
  for await (const chunk of response.readableStreamBody) chunks.push(chunk);
  return { response, body: Buffer.concat(chunks) };
}
