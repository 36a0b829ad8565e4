// Table service round trips through @azure/data-tables: upsert, merge, query, batch.
// Self-contained (lib/env.mjs insists on a Blob endpoint); reads LAPIS_TABLE_ENDPOINT and fails loudly without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { TableClient, TableServiceClient, odata } from "@azure/data-tables";

const ACCOUNT_NAME = "devstoreaccount1";
const ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const rawEndpoint = process.env.LAPIS_TABLE_ENDPOINT;
if (!rawEndpoint) {
  throw new Error(
    "LAPIS_TABLE_ENDPOINT is not set. Point it at the Table endpoint under test, " +
      "e.g. LAPIS_TABLE_ENDPOINT=http://127.0.0.1:10002/devstoreaccount1",
  );
}
const TABLE_ENDPOINT = rawEndpoint.replace(/\/+$/, "");
const CONNECTION_STRING =
  `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};` +
  `AccountKey=${ACCOUNT_KEY};TableEndpoint=${TABLE_ENDPOINT};`;
// http:// endpoints need allowInsecureConnection; no retries so the first answer is the one asserted.
const OPTIONS = { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } };
const service = TableServiceClient.fromConnectionString(CONNECTION_STRING, OPTIONS);

/** Runs `body` with a fresh table that is deleted afterwards. */
async function withTable(body) {
  const name = `js${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
  await service.createTable(name);
  const client = TableClient.fromConnectionString(CONNECTION_STRING, name, OPTIONS);
  try {
    return await body(client);
  } finally {
    await service.deleteTable(name);
  }
}

/** The Azure error code: the header when sent, else the OData JSON body's odata.error.code. */
function errorCode(err) {
  if (err.code) return err.code;
  try {
    return JSON.parse(err.response?.bodyAsText ?? "{}")["odata.error"]?.code;
  } catch {
    return undefined;
  }
}

async function listAll(iter) {
  const out = [];
  for await (const e of iter) out.push(e);
  return out;
}

test("upsert replace and merge, update merge, typed round trip", () =>
  withTable(async (table) => {
    await table.upsertEntity({ partitionKey: "p", rowKey: "r", a: "a", n: 1 }, "Replace");
    await table.upsertEntity({ partitionKey: "p", rowKey: "r", b: "b" }, "Merge");
    let got = await table.getEntity("p", "r");
    assert.equal(got.a, "a");
    assert.equal(got.b, "b");
    assert.equal(got.n, 1);
    await table.upsertEntity({ partitionKey: "p", rowKey: "r", c: "c" }, "Replace");
    got = await table.getEntity("p", "r");
    assert.equal(got.a, undefined);
    assert.equal(got.c, "c");

    const when = new Date("2020-05-06T07:08:09.123Z");
    await table.updateEntity(
      {
        partitionKey: "p",
        rowKey: "r",
        big: { value: "123456789012", type: "Int64" },
        when,
        bytes: new Uint8Array([0, 1, 255]),
        flag: true,
        ratio: 0.25,
      },
      "Merge",
    );
    got = await table.getEntity("p", "r", { disableTypeConversion: false });
    assert.equal(got.c, "c");
    // SDK 13 turns Edm.Int64 into a BigInt.
    assert.equal(got.big, 123456789012n);
    assert.equal(got.when.toISOString(), when.toISOString());
    assert.deepEqual(Array.from(got.bytes), [0, 1, 255]);
    assert.equal(got.flag, true);
    assert.equal(got.ratio, 0.25);
    assert.match(got.etag, /^W\/"datetime'/);
  }));

test("merge of a missing entity is 404 ResourceNotFound; stale etag is 412", () =>
  withTable(async (table) => {
    await assert.rejects(table.updateEntity({ partitionKey: "p", rowKey: "none", x: 1 }, "Merge"), (err) => {
      assert.equal(err.statusCode, 404);
      assert.equal(errorCode(err), "ResourceNotFound");
      return true;
    });
    const first = await table.createEntity({ partitionKey: "p", rowKey: "r", v: 1 });
    await table.updateEntity({ partitionKey: "p", rowKey: "r", v: 2 }, "Merge", { etag: first.etag });
    await assert.rejects(
      table.updateEntity({ partitionKey: "p", rowKey: "r", v: 3 }, "Merge", { etag: first.etag }),
      (err) => {
        assert.equal(err.statusCode, 412);
        assert.equal(errorCode(err), "UpdateConditionNotSatisfied");
        return true;
      },
    );
    assert.equal((await table.getEntity("p", "r")).v, 2);
  }));

test("query with filter, select and paging", () =>
  withTable(async (table) => {
    const actions = [];
    for (let i = 0; i < 30; i++) {
      actions.push(["create", { partitionKey: "p", rowKey: String(i).padStart(3, "0"), n: i, tag: i % 3 === 0 ? "x" : "y" }]);
    }
    await table.submitTransaction(actions);
    const x = await listAll(
      table.listEntities({ queryOptions: { filter: odata`tag eq ${"x"} and n ge ${9}`, select: ["n"] } }),
    );
    assert.deepEqual(x.map((e) => e.n), [9, 12, 15, 18, 21, 24, 27]);
    assert.equal(x[0].tag, undefined);
    const pages = [];
    for await (const page of table.listEntities().byPage({ maxPageSize: 7 })) pages.push(page.length);
    assert.deepEqual(pages, [7, 7, 7, 7, 2]);
  }));

test("batch commits all operations; a failing batch is rolled back and names the index", () =>
  withTable(async (table) => {
    await table.createEntity({ partitionKey: "p", rowKey: "exists", v: "orig" });
    const ok = await table.submitTransaction([
      ["create", { partitionKey: "p", rowKey: "a" }],
      ["upsert", { partitionKey: "p", rowKey: "b", v: 1 }, "Merge"],
      ["update", { partitionKey: "p", rowKey: "exists", w: 1 }, "Merge"],
    ]);
    assert.equal(ok.status, 202);
    assert.equal(ok.subResponses.length, 3);
    assert.equal((await listAll(table.listEntities())).length, 3);

    await assert.rejects(
      table.submitTransaction([
        ["create", { partitionKey: "p", rowKey: "c" }],
        ["delete", { partitionKey: "p", rowKey: "a" }],
        ["create", { partitionKey: "p", rowKey: "exists" }],
      ]),
      (err) => {
        assert.equal(err.statusCode, 409);
        assert.equal(errorCode(err), "EntityAlreadyExists");
        assert.match(err.message, /^2:/);
        return true;
      },
    );
    const rows = (await listAll(table.listEntities())).map((e) => e.rowKey).sort();
    assert.deepEqual(rows, ["a", "b", "exists"]);
  }));
