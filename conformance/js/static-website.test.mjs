// Static website hosting through the JS SDK: the StaticWebsite service properties, the $web
// container, and the web endpoint (LAPIS_WEB_ENDPOINT, Lapis's --webPort; Azure's
// <account>.z13.web.core.windows.net) serving it anonymously, fetched as a browser would.
// Azurite has no static website endpoint: without LAPIS_WEB_ENDPOINT these tests skip.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNT_NAME, serviceClient } from "./lib/env.mjs";

const WEB_ENDPOINT = process.env.LAPIS_WEB_ENDPOINT?.replace(/\/+$/, "");
const SKIP = WEB_ENDPOINT ? false : "LAPIS_WEB_ENDPOINT is not set (Azurite has no web endpoint)";
const site = `${WEB_ENDPOINT}/${ACCOUNT_NAME}`;
const html = { blobContentType: "text/html; charset=utf-8", blobCacheControl: "max-age=60" };

let saved;
let web;

// The settings are account-wide: what was there before is put back afterwards.
before(async () => {
  if (SKIP) return;
  saved = (await serviceClient.getProperties()).staticWebsite;
  await serviceClient.setProperties({
    staticWebsite: { enabled: true, indexDocument: "index.html", errorDocument404Path: "404.html" },
  });
  web = serviceClient.getContainerClient("$web");
  await web.createIfNotExists();
  const put = (name, body, headers) =>
    web.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), { blobHTTPHeaders: headers });
  await put("index.html", "<h1>js home</h1>", html);
  await put("404.html", "<h1>js missing</h1>", html);
  await put("guide/index.html", "<h1>js guide</h1>", html);
  await put("app.css", "body { color: red }", { blobContentType: "text/css", blobContentLanguage: "en" });
});

after(async () => {
  if (SKIP) return;
  await web.deleteIfExists();
  await serviceClient.setProperties({ staticWebsite: saved ?? { enabled: false } });
});

test("the service properties keep the static website settings", { skip: SKIP }, async () => {
  const props = (await serviceClient.getProperties()).staticWebsite;
  assert.equal(props.enabled, true);
  assert.equal(props.indexDocument, "index.html");
  assert.equal(props.errorDocument404Path, "404.html");
});

test("the root and folders serve their index document, with the blob's headers", { skip: SKIP }, async () => {
  for (const [path, body] of [["/", "<h1>js home</h1>"], ["/guide/", "<h1>js guide</h1>"], ["/guide", "<h1>js guide</h1>"]]) {
    const r = await fetch(site + path);
    assert.equal(r.status, 200, path);
    assert.equal(await r.text(), body, path);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8", path);
    assert.equal(r.headers.get("cache-control"), "max-age=60", path);
  }
  const css = await fetch(`${site}/app.css`);
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-type"), "text/css");
  assert.equal(css.headers.get("content-language"), "en");
  const props = await web.getBlobClient("app.css").getProperties();
  assert.equal(css.headers.get("etag"), props.etag);
});

test("a missing page is the 404 document with status 404", { skip: SKIP }, async () => {
  const r = await fetch(`${site}/no/such/page.html`);
  assert.equal(r.status, 404);
  assert.equal(await r.text(), "<h1>js missing</h1>");
});

test("ranges, conditional GETs and HEAD", { skip: SKIP }, async () => {
  const part = await fetch(`${site}/app.css`, { headers: { range: "bytes=0-3" } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), "body");
  assert.equal(part.headers.get("content-range"), "bytes 0-3/19");
  const head = await fetch(`${site}/app.css`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "19");
  const etag = head.headers.get("etag");
  assert.equal((await fetch(`${site}/app.css`, { headers: { "if-none-match": etag } })).status, 304);
});

test("the web endpoint is read-only", { skip: SKIP }, async () => {
  const r = await fetch(`${site}/index.html`, { method: "PUT", body: "defaced" });
  assert.equal(r.status, 405);
  assert.equal(await (await fetch(`${site}/`)).text(), "<h1>js home</h1>");
});
