//! N tiny block blobs in one container, then listings and point reads against it.

use std::sync::Arc;
use std::time::Instant;

use crate::http::{check, count, median_ms, send, Target, BLOB_VERSION};
use crate::load;
use crate::report::{int, mib, Report};

const CONTAINER: &str = "scale";
const IN_FLIGHT: usize = 32;
const PAGE: usize = 5000;
const BODY: &[u8; 16] = b"0123456789abcdef";
/// Blob names spread over this many virtual directories `d00/` .. `d99/`.
const DIRS: u64 = 100;

fn blob_name(i: u64) -> String {
    format!("d{:02}/b{i:07}", i % DIRS)
}

pub async fn run(target: Arc<Target>, n: u64, report: &mut Report) -> Result<(), String> {
    let url = target.url(
        &target.blob,
        &format!("/{CONTAINER}"),
        &[("restype", "container")],
    );
    let req = target.client.put(url).header("x-ms-version", BLOB_VERSION);
    send(req).await?.expect(201, "create container")?;

    let run = load::run("blob PUT", n, IN_FLIGHT, target.pid, {
        let target = target.clone();
        move |i| put_blob(target.clone(), i)
    })
    .await;
    if run.failures > 0 {
        let first = run.first_failure.unwrap_or_default();
        return Err(format!("{} blob PUTs failed; first: {first}", run.failures));
    }
    let what = format!("{} blob PUTs (16 B, 32 in flight)", int(n));
    report.load(&what, "PUT/s", 1, &run);
    listings(&target, n, report).await?;
    point_reads(&target, n, report).await?;
    let rss = crate::server::status_kib(target.pid, "VmRSS:").unwrap_or(0);
    report.add("lapis RSS after the listings and reads", mib(rss), "MiB");
    Ok(())
}

async fn put_blob(target: Arc<Target>, i: u64) -> Result<(), String> {
    let url = target.url(&target.blob, &format!("/{CONTAINER}/{}", blob_name(i)), &[]);
    let req = target
        .client
        .put(url)
        .header("x-ms-version", BLOB_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .body(&BODY[..]);
    send(req).await?.expect(201, "put blob").map(drop)
}

/// One page of List Blobs: its `<Blob>` and `<BlobPrefix>` counts and its NextMarker.
struct Page {
    blobs: usize,
    prefixes: usize,
    next_marker: Option<String>,
}

async fn list(target: &Target, pairs: &[(&str, &str)]) -> Result<Page, String> {
    let mut all = vec![("restype", "container"), ("comp", "list")];
    all.extend_from_slice(pairs);
    let url = target.url(&target.blob, &format!("/{CONTAINER}"), &all);
    let req = target.client.get(url).header("x-ms-version", BLOB_VERSION);
    let reply = send(req).await?.expect(200, "list blobs")?;
    Ok(Page {
        blobs: count(&reply.body, "<Blob>"),
        prefixes: count(&reply.body, "<BlobPrefix>"),
        next_marker: next_marker(&reply.body),
    })
}

/// The text of `<NextMarker>`, unescaped; `None` when empty or absent.
fn next_marker(xml: &str) -> Option<String> {
    let start = xml.find("<NextMarker>")? + "<NextMarker>".len();
    let end = start + xml[start..].find("</NextMarker>")?;
    let raw = &xml[start..end];
    let text = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    (!text.is_empty()).then_some(text)
}

async fn listings(target: &Target, n: u64, report: &mut Report) -> Result<(), String> {
    let max = PAGE.to_string();
    let first_page = [("maxresults", max.as_str())];
    let full_pages = n as usize > PAGE;
    let ms = median_ms(5, || async {
        let page = list(target, &first_page).await?;
        check("first page, blobs", page.blobs, PAGE.min(n as usize))?;
        check(
            "first page has a NextMarker",
            page.next_marker.is_some() as usize,
            full_pages as usize,
        )
    })
    .await?;
    report.ms(format!("list blobs, first page of {PAGE} (flat)"), ms);

    let (walk_ms, pages, middle) = walk(target, n).await?;
    report.ms(
        format!("list blobs, walk all {} pages of {PAGE}, once", pages),
        walk_ms,
    );
    if let Some(marker) = middle {
        let pairs = [("maxresults", max.as_str()), ("marker", marker.as_str())];
        let ms = median_ms(5, || async {
            let page = list(target, &pairs).await?;
            check("middle page, blobs", page.blobs, PAGE)
        })
        .await?;
        report.ms(
            format!("list blobs, page {} of {pages} (marker)", pages / 2 + 1),
            ms,
        );
    }

    // Blobs i with i % 100 == 42 among 0..n.
    let in_d42 = n / DIRS + u64::from(n % DIRS > 42);
    let prefix = [("prefix", "d42/"), ("maxresults", max.as_str())];
    let ms = median_ms(5, || async {
        let page = list(target, &prefix).await?;
        check("prefix d42/, blobs", page.blobs, PAGE.min(in_d42 as usize))
    })
    .await?;
    report.ms(
        format!("list blobs, prefix d42/ first page ({} in d42/)", in_d42),
        ms,
    );

    let delimiter = [("delimiter", "/"), ("maxresults", max.as_str())];
    let ms = median_ms(5, || async {
        let page = list(target, &delimiter).await?;
        check("delimiter /, prefixes", page.prefixes, DIRS.min(n) as usize)
    })
    .await?;
    report.ms("list blobs, delimiter / (100 BlobPrefix)", ms);
    Ok(())
}

/// Lists the whole container once, page by page; returns the time, the page count and the
/// marker that starts the middle page. Fails unless exactly `n` blobs come back.
async fn walk(target: &Target, n: u64) -> Result<(f64, usize, Option<String>), String> {
    let max = PAGE.to_string();
    let start = Instant::now();
    let (mut total, mut markers) = (0usize, Vec::new());
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("maxresults", max.as_str())];
        if let Some(m) = &marker {
            pairs.push(("marker", m.as_str()));
        }
        let page = list(target, &pairs).await?;
        total += page.blobs;
        marker = page.next_marker;
        match &marker {
            Some(m) => markers.push(m.clone()),
            None => break,
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    check("walk, blobs", total, n as usize)?;
    let pages = markers.len() + 1;
    // markers[k] starts page k + 2; the middle page is pages / 2 + 1.
    let middle = (pages >= 3).then(|| markers[pages / 2 - 1].clone());
    Ok((ms, pages, middle))
}

/// Median of 100 GETs and 100 HEADs of one blob from the middle of the load.
async fn point_reads(target: &Target, n: u64, report: &mut Report) -> Result<(), String> {
    let name = blob_name(n / 2);
    let url = target.url(&target.blob, &format!("/{CONTAINER}/{name}"), &[]);
    let ms = median_ms(100, || async {
        let req = target
            .client
            .get(url.clone())
            .header("x-ms-version", BLOB_VERSION);
        let reply = send(req).await?.expect(200, "get blob")?;
        check("get blob, bytes", reply.body.len(), BODY.len())
    })
    .await?;
    report.ms("GET one blob (median of 100)", ms);
    let ms = median_ms(100, || async {
        let req = target
            .client
            .head(url.clone())
            .header("x-ms-version", BLOB_VERSION);
        send(req).await?.expect(200, "head blob").map(drop)
    })
    .await?;
    report.ms("HEAD one blob (median of 100)", ms);
    Ok(())
}
