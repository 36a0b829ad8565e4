//! Blob versions: in the versioned account, `blobs` blobs (a tenth of the run's blob count, so
//! as many rows as the plain container has blobs) each written VERSIONS times (so each has
//! VERSIONS - 1 previous versions), then List Blobs with and without include=versions,deleted:
//! a listing of versions (and soft-deleted blobs) must page as a plain one does.

use std::sync::Arc;
use std::time::Instant;

use crate::http::{check, count, median_ms, send, Target, BLOB_VERSION};
use crate::load;
use crate::report::{int, Report};

const CONTAINER: &str = "versions";
const IN_FLIGHT: usize = 32;
const PAGE: usize = 5000;
pub const VERSIONS: u64 = 10;

fn blob_name(i: u64, blobs: u64) -> String {
    format!("v{:07}", i % blobs)
}

pub async fn run(target: Arc<Target>, blobs: u64, report: &mut Report) -> Result<(), String> {
    let url = target.url(
        &target.blob,
        &format!("/{CONTAINER}"),
        &[("restype", "container")],
    );
    let req = target.client.put(url).header("x-ms-version", BLOB_VERSION);
    send(req).await?.expect(201, "create container")?;
    // Job i writes blob i % blobs: each blob's writes are `blobs` jobs apart.
    let writes = blobs * VERSIONS;
    let run = load::run("versioned blob PUT", writes, IN_FLIGHT, target.pid, {
        let target = target.clone();
        move |i| put_blob(target.clone(), i, blobs)
    })
    .await;
    if run.failures > 0 {
        let first = run.first_failure.unwrap_or_default();
        return Err(format!(
            "{} versioned PUTs failed; first: {first}",
            run.failures
        ));
    }
    let what = format!(
        "{} versioned blob PUTs ({} blobs x {VERSIONS})",
        int(writes),
        int(blobs)
    );
    report.load(&what, "PUT/s", 1, &run);

    let max = PAGE.to_string();
    let plain = [("maxresults", max.as_str())];
    let ms = median_ms(5, || async {
        let xml = list(&target, &plain).await?;
        check("plain first page, blobs", count(&xml, "<Blob>"), PAGE)
    })
    .await?;
    report.ms(
        format!("list blobs, first page of {PAGE}, versioned account"),
        ms,
    );
    let versions = [
        ("maxresults", max.as_str()),
        ("include", "versions,deleted"),
    ];
    let ms = median_ms(5, || async {
        let xml = list(&target, &versions).await?;
        check("versions first page, items", count(&xml, "<Blob>"), PAGE)
    })
    .await?;
    report.ms(
        format!("list blobs include=versions,deleted, first page of {PAGE} ({VERSIONS} per blob)"),
        ms,
    );

    let start = Instant::now();
    let (mut total, mut pages) = (0usize, 0usize);
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = versions.to_vec();
        if let Some(m) = &marker {
            pairs.push(("marker", m.as_str()));
        }
        let xml = list(&target, &pairs).await?;
        total += count(&xml, "<Blob>");
        pages += 1;
        marker = next_marker(&xml);
        if marker.is_none() {
            break;
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    check("versions walk, items", total, writes as usize)?;
    report.ms(
        format!(
            "list blobs include=versions,deleted, walk all {pages} pages ({} items), once",
            int(writes)
        ),
        ms,
    );
    Ok(())
}

async fn put_blob(target: Arc<Target>, i: u64, blobs: u64) -> Result<(), String> {
    let url = target.url(
        &target.blob,
        &format!("/{CONTAINER}/{}", blob_name(i, blobs)),
        &[],
    );
    let req = target
        .client
        .put(url)
        .header("x-ms-version", BLOB_VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .body(i.to_le_bytes().to_vec());
    let reply = send(req).await?.expect(201, "put blob")?;
    match reply.header("x-ms-version-id") {
        Some(_) => Ok(()),
        None => Err("a versioned PUT answered no x-ms-version-id".into()),
    }
}

async fn list(target: &Target, pairs: &[(&str, &str)]) -> Result<String, String> {
    let mut all = vec![("restype", "container"), ("comp", "list")];
    all.extend_from_slice(pairs);
    let url = target.url(&target.blob, &format!("/{CONTAINER}"), &all);
    let req = target.client.get(url).header("x-ms-version", BLOB_VERSION);
    Ok(send(req).await?.expect(200, "list blobs")?.body)
}

/// The text of `<NextMarker>` (blob names here need no unescaping); `None` when empty.
fn next_marker(xml: &str) -> Option<String> {
    let start = xml.find("<NextMarker>")? + "<NextMarker>".len();
    let end = start + xml[start..].find("</NextMarker>")?;
    Some(xml[start..end].to_owned()).filter(|m| !m.is_empty())
}
