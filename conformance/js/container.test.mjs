// Container lifecycle: create, exists, metadata, delete, and the errors around them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectRestError, serviceClient, uniqueName } from "./lib/env.mjs";

test("create, exists, get properties, delete, and errors after delete", async () => {
  const container = serviceClient.getContainerClient(uniqueName("js-life"));
  try {
    assert.equal(await container.exists(), false);
    const created = await container.create({ metadata: { team: "lapis" } });
    assert.equal(created._response.status, 201);
    assert.match(created.etag, /^"0x[0-9A-F]+"$/);
    assert.equal(await container.exists(), true);

    // TestContainerCreateNameCollision: a second create is 409 ContainerAlreadyExists.
    await expectRestError(container.create(), 409, "ContainerAlreadyExists");

    const props = await container.getProperties();
    assert.equal(props._response.status, 200);
    assert.deepEqual(props.metadata, { team: "lapis" });
    assert.equal(props.etag, created.etag);
    assert.equal(props.leaseState, "available");
    assert.equal(props.blobPublicAccess, undefined);

    const deleted = await container.delete();
    assert.equal(deleted._response.status, 202);
    assert.equal(await container.exists(), false);
    // TestContainerDeleteNonExistent and TestContainerGetPropsAndMetaNonExistentContainer.
    await expectRestError(container.delete(), 404, "ContainerNotFound");
    await expectRestError(container.getProperties(), 404, "ContainerNotFound");
  } finally {
    await container.deleteIfExists();
  }
});

test("set metadata replaces the whole set and changes the etag", async () => {
  const container = serviceClient.getContainerClient(uniqueName("js-meta"));
  await container.create({ metadata: { first: "1", second: "2" } });
  try {
    const before = await container.getProperties();
    const set = await container.setMetadata({ replaced: "yes", Mixed: "Case" });
    assert.equal(set._response.status, 200);
    const after = await container.getProperties();
    // Metadata names are case-insensitive; the SDK lowercases what the server sends back.
    assert.deepEqual(after.metadata, { replaced: "yes", mixed: "Case" });
    assert.notEqual(after.etag, before.etag);

    await container.setMetadata({});
    const cleared = await container.getProperties();
    assert.deepEqual(cleared.metadata, {});
  } finally {
    await container.delete();
  }
});

test("set metadata on a missing container is 404 ContainerNotFound", async () => {
  const container = serviceClient.getContainerClient(uniqueName("js-nometa"));
  await expectRestError(container.setMetadata({ a: "b" }), 404, "ContainerNotFound");
});

test("invalid container names are 400 InvalidResourceName, bad lengths OutOfRangeInput", async () => {
  // "foo bar" is the name of TestContainerCreateInvalidName; the others break the naming rules.
  for (const name of ["foo bar", "Upper-Case", "double--dash", "-leading"]) {
    const container = serviceClient.getContainerClient(name);
    await expectRestError(container.create(), 400, "InvalidResourceName");
  }
  for (const name of ["ab", "x".repeat(64)]) {
    const container = serviceClient.getContainerClient(name);
    await expectRestError(container.create(), 400, "OutOfRangeInput");
  }
});

test("delete with ifModifiedSince in the future is 412 ConditionNotMet", async () => {
  const container = serviceClient.getContainerClient(uniqueName("js-delcond"));
  const created = await container.create();
  try {
    const future = new Date(created.lastModified.getTime() + 3600 * 1000);
    await expectRestError(
      container.delete({ conditions: { ifModifiedSince: future } }),
      412,
      "ConditionNotMet",
    );
    assert.equal(await container.exists(), true);
  } finally {
    await container.deleteIfExists();
  }
});

test("the service lists a new container by prefix with its metadata", async () => {
  const name = uniqueName("js-svc");
  const container = serviceClient.getContainerClient(name);
  await container.create({ metadata: { k: "v" } });
  try {
    const found = [];
    for await (const item of serviceClient.listContainers({ prefix: name, includeMetadata: true })) {
      found.push(item);
    }
    assert.deepEqual(found.map((c) => c.name), [name]);
    assert.deepEqual(found[0].metadata, { k: "v" });
  } finally {
    await container.delete();
  }
});
