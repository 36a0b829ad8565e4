//! Blob versioning over raw HTTP, with the account configuration switching it on: the
//! version headers of writes and reads, `versionid=` on each operation that takes it, the
//! status codes and error codes of the requests Azure refuses.

mod signed;

use lapis_auth::{Accounts, DEV_ACCOUNT};
use lapis_server::account_config::AccountConfig;
use lapis_server::AppState;
use lapis_store::Store;

use signed::BlobServer as Server;

async fn start(versioning: bool) -> Server {
    let config = AccountConfig::parse(&format!(
        r#"{{"accounts": {{"{DEV_ACCOUNT}": {{"blobVersioning": {versioning}}}}}}}"#
    ))
    .expect("config");
    let state = AppState::new(Store::in_memory().expect("store"), Accounts::dev())
        .with_account_config(config);
    Server::start(state).await
}

impl Server {
    /// Put Blob; the version id it answers.
    async fn put(&self, blob: &str, body: &[u8]) -> Option<String> {
        let r = self
            .send(
                "PUT",
                &format!("/cont/{blob}"),
                &[("x-ms-blob-type", "BlockBlob")],
                body,
            )
            .await;
        assert_eq!(r.status(), 201);
        header(&r, "x-ms-version-id")
    }
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn error_code(r: &reqwest::Response) -> Option<String> {
    header(r, "x-ms-error-code")
}

/// The query value of a version id (its colons percent-encoded, as the SDKs send them).
fn q(version: &str) -> String {
    version.replace(':', "%3A")
}

#[tokio::test]
async fn writes_answer_their_version_and_reads_say_which_is_current() {
    let s = start(true).await;
    let v1 = s.put("b", b"first").await.expect("a version id");
    let v2 = s.put("b", b"second").await.expect("a version id");
    assert!(v1 < v2, "{v1} {v2}");
    assert_eq!(v1.len(), "2022-08-11T15:08:12.1121050Z".len());

    let old = s
        .send("GET", &format!("/cont/b?versionid={}", q(&v1)), &[], b"")
        .await;
    assert_eq!(old.status(), 200);
    assert_eq!(
        header(&old, "x-ms-version-id").as_deref(),
        Some(v1.as_str())
    );
    assert_eq!(header(&old, "x-ms-is-current-version"), None);
    assert_eq!(header(&old, "x-ms-lease-state"), None);
    assert_eq!(old.bytes().await.unwrap().as_ref(), b"first");

    for path in [
        format!("/cont/b?versionid={}", q(&v2)),
        "/cont/b".to_string(),
    ] {
        let cur = s.send("HEAD", &path, &[], b"").await;
        assert_eq!(cur.status(), 200, "{path}");
        assert_eq!(
            header(&cur, "x-ms-version-id").as_deref(),
            Some(v2.as_str())
        );
        assert_eq!(
            header(&cur, "x-ms-is-current-version").as_deref(),
            Some("true")
        );
        // Named by its version id, even the current version answers no lease (as Azure does).
        let by_version = path.contains("versionid");
        assert_eq!(
            header(&cur, "x-ms-lease-state").is_none(),
            by_version,
            "{path}"
        );
    }
    let meta = s
        .send(
            "GET",
            &format!("/cont/b?comp=metadata&versionid={}", q(&v1)),
            &[],
            b"",
        )
        .await;
    assert_eq!(meta.status(), 200);

    // Set Blob Metadata makes a version; Set Blob Properties does not.
    let set = s
        .send("PUT", "/cont/b?comp=metadata", &[("x-ms-meta-k", "v")], b"")
        .await;
    assert_eq!(set.status(), 200);
    let v3 = header(&set, "x-ms-version-id").expect("a version id");
    assert!(v3 > v2);
    let props = s
        .send(
            "PUT",
            "/cont/b?comp=properties",
            &[("x-ms-blob-content-type", "text/plain")],
            b"",
        )
        .await;
    assert_eq!(props.status(), 200);
    assert_eq!(header(&props, "x-ms-version-id"), None);
    let cur = s.send("HEAD", "/cont/b", &[], b"").await;
    assert_eq!(
        header(&cur, "x-ms-version-id").as_deref(),
        Some(v3.as_str())
    );

    // Put Block List, append and page blobs make versions too.
    let list = s
        .send(
            "PUT",
            "/cont/b?comp=blocklist",
            &[],
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList></BlockList>",
        )
        .await;
    assert_eq!(list.status(), 201);
    assert!(header(&list, "x-ms-version-id").is_some_and(|v| v > v3));
    let append = s
        .send("PUT", "/cont/a", &[("x-ms-blob-type", "AppendBlob")], b"")
        .await;
    assert!(header(&append, "x-ms-version-id").is_some());
    let block = s.send("PUT", "/cont/a?comp=appendblock", &[], b"xyz").await;
    assert_eq!(block.status(), 201);
    assert_eq!(header(&block, "x-ms-version-id"), None);
    let page = s
        .send(
            "PUT",
            "/cont/p",
            &[
                ("x-ms-blob-type", "PageBlob"),
                ("x-ms-blob-content-length", "512"),
            ],
            b"",
        )
        .await;
    assert!(header(&page, "x-ms-version-id").is_some());
}

#[tokio::test]
async fn versionid_errors_are_azures() {
    let s = start(true).await;
    let v1 = s.put("b", b"one").await.unwrap();
    let v2 = s.put("b", b"two").await.unwrap();

    let malformed = s.send("GET", "/cont/b?versionid=yesterday", &[], b"").await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        error_code(&malformed).as_deref(),
        Some("InvalidQueryParameterValue")
    );
    let unknown = s
        .send(
            "GET",
            "/cont/b?versionid=2001-01-01T00%3A00%3A00.0000000Z",
            &[],
            b"",
        )
        .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(&unknown).as_deref(), Some("BlobNotFound"));
    // Operations that cannot address a version.
    let blocks = s
        .send(
            "GET",
            &format!("/cont/b?comp=blocklist&versionid={}", q(&v1)),
            &[],
            b"",
        )
        .await;
    assert_eq!(blocks.status(), 400);
    assert_eq!(
        error_code(&blocks).as_deref(),
        Some("InvalidQueryParameterValue")
    );

    // The current version goes only with the blob.
    let current = s
        .send("DELETE", &format!("/cont/b?versionid={}", q(&v2)), &[], b"")
        .await;
    assert_eq!(current.status(), 403);
    assert_eq!(
        error_code(&current).as_deref(),
        Some("OperationNotAllowedOnRootBlob")
    );
    let with_snapshots = s
        .send(
            "DELETE",
            &format!("/cont/b?versionid={}", q(&v1)),
            &[("x-ms-delete-snapshots", "include")],
            b"",
        )
        .await;
    assert_eq!(with_snapshots.status(), 400);

    let gone = s
        .send("DELETE", &format!("/cont/b?versionid={}", q(&v1)), &[], b"")
        .await;
    assert_eq!(gone.status(), 202);
    let again = s
        .send("GET", &format!("/cont/b?versionid={}", q(&v1)), &[], b"")
        .await;
    assert_eq!(again.status(), 404);
    assert_eq!(error_code(&again).as_deref(), Some("BlobNotFound"));

    // Deleting the blob leaves its current version as a previous one.
    assert_eq!(s.send("DELETE", "/cont/b", &[], b"").await.status(), 202);
    assert_eq!(s.send("GET", "/cont/b", &[], b"").await.status(), 404);
    let kept = s
        .send("GET", &format!("/cont/b?versionid={}", q(&v2)), &[], b"")
        .await;
    assert_eq!(kept.status(), 200);
    assert_eq!(header(&kept, "x-ms-is-current-version"), None);
    assert_eq!(kept.bytes().await.unwrap().as_ref(), b"two");
}

#[tokio::test]
async fn list_blobs_include_versions() {
    let s = start(true).await;
    let v1 = s.put("b", b"one").await.unwrap();
    let v2 = s.put("b", b"two").await.unwrap();
    let listed = s
        .send(
            "GET",
            "/cont?restype=container&comp=list&include=versions",
            &[],
            b"",
        )
        .await;
    assert_eq!(listed.status(), 200);
    let xml = listed.text().await.unwrap();
    let old = format!("<Name>b</Name><VersionId>{v1}</VersionId><Properties>");
    let cur = format!(
        "<Name>b</Name><VersionId>{v2}</VersionId><IsCurrentVersion>true</IsCurrentVersion><Properties>"
    );
    let (at_old, at_cur) = (xml.find(&old), xml.find(&cur));
    assert!(
        at_old.is_some() && at_cur.is_some() && at_old < at_cur,
        "{xml}"
    );
    assert_eq!(xml.matches("<LeaseState>").count(), 1, "{xml}");
    // Without include=versions: the current version alone, still naming its version.
    let plain = s
        .send("GET", "/cont?restype=container&comp=list", &[], b"")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(plain.matches("<Blob>").count(), 1, "{plain}");
    assert!(plain.contains(&cur), "{plain}");
}

#[tokio::test]
async fn copying_a_version_over_its_blob_restores_it_and_tags_and_tiers_address_versions() {
    let s = start(true).await;
    let v1 = s.put("b", b"original").await.unwrap();
    s.put("b", b"mistake").await.unwrap();
    let source = format!("{}/cont/b?versionid={}", s.base, q(&v1));
    let copy = s
        .send("PUT", "/cont/b", &[("x-ms-copy-source", &source)], b"")
        .await;
    assert_eq!(copy.status(), 202);
    let v3 = header(&copy, "x-ms-version-id").expect("a version id");
    let now = s.send("GET", "/cont/b", &[], b"").await;
    assert_eq!(
        header(&now, "x-ms-version-id").as_deref(),
        Some(v3.as_str())
    );
    assert_eq!(now.bytes().await.unwrap().as_ref(), b"original");

    let tags = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet><Tag><Key>k</Key><Value>old</Value></Tag></TagSet></Tags>";
    let set = s
        .send(
            "PUT",
            &format!("/cont/b?comp=tags&versionid={}", q(&v1)),
            &[],
            tags,
        )
        .await;
    assert_eq!(set.status(), 204);
    let got = s
        .send(
            "GET",
            &format!("/cont/b?comp=tags&versionid={}", q(&v1)),
            &[],
            b"",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(got.contains("<Value>old</Value>"), "{got}");
    let current_tags = s
        .send("GET", "/cont/b?comp=tags", &[], b"")
        .await
        .text()
        .await
        .unwrap();
    assert!(!current_tags.contains("old"), "{current_tags}");
    let tier = s
        .send(
            "PUT",
            &format!("/cont/b?comp=tier&versionid={}", q(&v1)),
            &[("x-ms-access-tier", "Cool")],
            b"",
        )
        .await;
    assert_eq!(tier.status(), 200);
    let old = s
        .send("HEAD", &format!("/cont/b?versionid={}", q(&v1)), &[], b"")
        .await;
    assert_eq!(header(&old, "x-ms-access-tier").as_deref(), Some("Cool"));
    let cur = s.send("HEAD", "/cont/b", &[], b"").await;
    assert_eq!(header(&cur, "x-ms-access-tier").as_deref(), Some("Hot"));
}

#[tokio::test]
async fn versioning_off_answers_no_version() {
    let s = start(false).await;
    assert_eq!(s.put("b", b"one").await, None);
    let r = s.send("GET", "/cont/b", &[], b"").await;
    assert_eq!(header(&r, "x-ms-version-id"), None);
    assert_eq!(header(&r, "x-ms-is-current-version"), None);
    let listed = s
        .send(
            "GET",
            "/cont?restype=container&comp=list&include=versions",
            &[],
            b"",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("VersionId"), "{listed}");
}
