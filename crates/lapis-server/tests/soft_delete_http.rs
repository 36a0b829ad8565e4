//! Blob soft delete (the account's DeleteRetentionPolicy) and container soft delete (the
//! account configuration's `containerSoftDeleteDays`) over raw HTTP: status codes, error
//! codes, the headers and the listed XML.

mod signed;

use lapis_auth::{Accounts, DEV_ACCOUNT};
use lapis_server::account_config::AccountConfig;
use lapis_server::AppState;
use lapis_store::Store;

use signed::BlobServer as Server;

/// A server whose development account keeps deleted containers `container_days` days.
async fn start(container_days: Option<u32>) -> Server {
    let mut state = AppState::new(Store::in_memory().expect("store"), Accounts::dev());
    if let Some(days) = container_days {
        let json = format!(
            r#"{{"accounts": {{"{DEV_ACCOUNT}": {{"containerSoftDeleteDays": {days}}}}}}}"#
        );
        state = state.with_account_config(AccountConfig::parse(&json).expect("config"));
    }
    Server::start(state).await
}

const BLOCK_BLOB: (&str, &str) = ("x-ms-blob-type", "BlockBlob");

impl Server {
    async fn expect(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        status: u16,
    ) -> reqwest::Response {
        let r = self.send(method, path_and_query, headers, body).await;
        assert_eq!(r.status(), status, "{method} {path_and_query}");
        r
    }

    async fn error_code(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let r = self.send(method, path_and_query, headers, b"").await;
        let status = r.status().as_u16();
        let code = r
            .headers()
            .get("x-ms-error-code")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, code)
    }

    async fn text(&self, path_and_query: &str) -> String {
        self.expect("GET", path_and_query, &[], b"", 200)
            .await
            .text()
            .await
            .unwrap()
    }

    async fn keep_deleted_blobs(&self, days: u32) {
        let xml = format!(
            "<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>{days}</Days></DeleteRetentionPolicy></StorageServiceProperties>"
        );
        self.expect(
            "PUT",
            "/?restype=service&comp=properties",
            &[],
            xml.as_bytes(),
            202,
        )
        .await;
    }
}

#[tokio::test]
async fn delete_is_soft_with_the_policy_and_undelete_restores() {
    let s = start(None).await;
    s.keep_deleted_blobs(3).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"hello", 201)
        .await;
    let r = s.expect("DELETE", "/cont/b", &[], b"", 202).await;
    assert_eq!(r.headers()["x-ms-delete-type-permanent"], "false");
    // Gone for every ordinary operation.
    assert_eq!(
        s.error_code("GET", "/cont/b", &[]).await,
        (404, "BlobNotFound".into())
    );
    assert_eq!(
        s.error_code("PUT", "/cont/b?comp=metadata", &[("x-ms-meta-a", "1")])
            .await,
        (404, "BlobNotFound".into())
    );
    assert_eq!(
        s.error_code("DELETE", "/cont/b", &[]).await,
        (404, "BlobNotFound".into())
    );
    let plain = s.text("/cont?restype=container&comp=list").await;
    assert!(!plain.contains("<Name>b</Name>"), "{plain}");
    let listed = s
        .text("/cont?restype=container&comp=list&include=deleted")
        .await;
    assert!(
        listed.contains("<Blob><Name>b</Name><Deleted>true</Deleted><Properties>"),
        "{listed}"
    );
    assert!(
        listed.contains("<RemainingRetentionDays>3</RemainingRetentionDays>"),
        "{listed}"
    );
    assert!(listed.contains("<DeletedTime>"), "{listed}");

    s.expect("PUT", "/cont/b?comp=undelete", &[], b"", 200)
        .await;
    let body = s
        .expect("GET", "/cont/b", &[], b"", 200)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello");
    // On a live blob: a no-op 200.
    s.expect("PUT", "/cont/b?comp=undelete", &[], b"", 200)
        .await;
    // Nothing of the name at all.
    assert_eq!(
        s.error_code("PUT", "/cont/none?comp=undelete", &[]).await,
        (404, "BlobNotFound".into())
    );
}

#[tokio::test]
async fn without_the_policy_delete_is_permanent() {
    let s = start(None).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"x", 201).await;
    let r = s.expect("DELETE", "/cont/b", &[], b"", 202).await;
    assert_eq!(r.headers()["x-ms-delete-type-permanent"], "true");
    assert_eq!(
        s.error_code("PUT", "/cont/b?comp=undelete", &[]).await,
        (404, "BlobNotFound".into())
    );
    let listed = s
        .text("/cont?restype=container&comp=list&include=deleted")
        .await;
    assert!(listed.contains("<Blobs />"), "{listed}");
}

#[tokio::test]
async fn a_deleted_snapshot_is_listed_with_snapshots_and_deleted() {
    let s = start(None).await;
    s.keep_deleted_blobs(1).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"v1", 201).await;
    let r = s
        .expect("PUT", "/cont/b?comp=snapshot", &[], b"", 201)
        .await;
    let snap = r.headers()["x-ms-snapshot"].to_str().unwrap().to_string();
    let q = format!("/cont/b?snapshot={snap}");
    s.expect("DELETE", &q, &[], b"", 202).await;
    assert_eq!(
        s.error_code("GET", &q, &[]).await,
        (404, "BlobNotFound".into())
    );
    let listed = s
        .text("/cont?restype=container&comp=list&include=snapshots,deleted")
        .await;
    assert!(
        listed.contains(&format!(
            "<Blob><Name>b</Name><Deleted>true</Deleted><Snapshot>{snap}</Snapshot>"
        )),
        "{listed}"
    );
    s.expect("PUT", "/cont/b?comp=undelete", &[], b"", 200)
        .await;
    s.expect("GET", &q, &[], b"", 200).await;
}

#[tokio::test]
async fn an_overwrite_keeps_a_soft_deleted_snapshot() {
    let s = start(None).await;
    s.keep_deleted_blobs(1).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"old", 201).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"new", 201).await;
    let listed = s
        .text("/cont?restype=container&comp=list&include=snapshots,deleted")
        .await;
    assert_eq!(
        listed.matches("<Deleted>true</Deleted><Snapshot>").count(),
        1,
        "{listed}"
    );
    // A new blob over a soft-deleted name is an ordinary create.
    s.expect("DELETE", "/cont/b", &[], b"", 202).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"newer", 201)
        .await;
    let body = s
        .expect("GET", "/cont/b", &[], b"", 200)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "newer");
}

#[tokio::test]
async fn container_soft_delete_lists_and_restores() {
    let s = start(Some(7)).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"kept", 201)
        .await;
    s.expect("DELETE", "/cont?restype=container", &[], b"", 202)
        .await;
    assert_eq!(
        s.error_code("GET", "/cont?restype=container", &[]).await,
        (404, "ContainerNotFound".into())
    );
    let plain = s.text("/?comp=list").await;
    assert!(plain.contains("<Containers />"), "{plain}");
    let listed = s.text("/?comp=list&include=deleted,metadata").await;
    let start = listed.find("<Version>").expect("a version") + "<Version>".len();
    let version = listed[start..start + 16].to_string();
    assert!(
        listed.contains(&format!(
            "<Container><Name>cont</Name><Deleted>true</Deleted><Version>{version}</Version><Properties>"
        )),
        "{listed}"
    );
    assert!(
        listed.contains("<LeaseState>expired</LeaseState>"),
        "{listed}"
    );
    assert!(
        listed.contains("</ImmutableStorageWithVersioningEnabled><DeletedTime>"),
        "{listed}"
    );
    assert!(
        listed.contains("<RemainingRetentionDays>7</RemainingRetentionDays></Properties>"),
        "{listed}"
    );

    // The name is free at once; restoring over the live one is refused.
    s.expect("PUT", "/cont?restype=container", &[], b"", 201)
        .await;
    let restore = [
        ("x-ms-deleted-container-name", "cont"),
        ("x-ms-deleted-container-version", version.as_str()),
    ];
    assert_eq!(
        s.error_code("PUT", "/cont?restype=container&comp=undelete", &restore)
            .await,
        (409, "ContainerAlreadyExists".into())
    );
    s.expect("DELETE", "/cont?restype=container", &[], b"", 202)
        .await;
    let unknown = [
        ("x-ms-deleted-container-name", "cont"),
        ("x-ms-deleted-container-version", "0000000000000000"),
    ];
    assert_eq!(
        s.error_code("PUT", "/cont?restype=container&comp=undelete", &unknown)
            .await,
        (404, "ContainerNotFound".into())
    );
    s.expect(
        "PUT",
        "/cont?restype=container&comp=undelete",
        &restore,
        b"",
        201,
    )
    .await;
    let body = s
        .expect("GET", "/cont/b", &[], b"", 200)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "kept");
}

#[tokio::test]
async fn restore_container_needs_both_headers() {
    // TestContainerRestoreFailures.json.
    let s = start(Some(1)).await;
    assert_eq!(
        s.error_code(
            "PUT",
            "/cont?restype=container&comp=undelete",
            &[
                ("x-ms-deleted-container-name", "cont"),
                ("x-ms-deleted-container-version", "")
            ]
        )
        .await,
        (400, "MissingRequiredHeader".into())
    );
    assert_eq!(
        s.error_code("PUT", "/?restype=container&comp=undelete", &[])
            .await,
        (400, "MissingRequiredHeader".into())
    );
}

#[tokio::test]
async fn without_container_soft_delete_a_deleted_container_is_gone() {
    let s = start(None).await;
    s.expect("DELETE", "/cont?restype=container", &[], b"", 202)
        .await;
    let listed = s.text("/?comp=list&include=deleted").await;
    assert!(listed.contains("<Containers />"), "{listed}");
}

/// Delete Blob `deletetype=permanent`: 409 until the policy has `AllowPermanentDelete`, 409
/// without a snapshot or version, 409 `BlobSnapshotNotSoftDeleted` for a live snapshot, 400
/// for another value; then 202 `x-ms-delete-type-permanent: true`, and Undelete cannot bring
/// it back.
#[tokio::test]
async fn permanent_delete_of_a_soft_deleted_snapshot() {
    let s = start(None).await;
    s.keep_deleted_blobs(1).await;
    s.expect("PUT", "/cont/b", &[BLOCK_BLOB], b"v1", 201).await;
    let snapshot =
        |r: reqwest::Response| r.headers()["x-ms-snapshot"].to_str().unwrap().to_string();
    let deleted = snapshot(
        s.expect("PUT", "/cont/b?comp=snapshot", &[], b"", 201)
            .await,
    );
    let live = snapshot(
        s.expect("PUT", "/cont/b?comp=snapshot", &[], b"", 201)
            .await,
    );
    s.expect(
        "DELETE",
        &format!("/cont/b?snapshot={deleted}"),
        &[],
        b"",
        202,
    )
    .await;
    let permanent = |snap: &str| format!("/cont/b?snapshot={snap}&deletetype=permanent");
    assert_eq!(
        s.error_code("DELETE", &permanent(&deleted), &[]).await,
        (409, "BlobOperationNotSupported".into())
    );
    let xml = "<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>1</Days><AllowPermanentDelete>true</AllowPermanentDelete></DeleteRetentionPolicy></StorageServiceProperties>";
    s.expect(
        "PUT",
        "/?restype=service&comp=properties",
        &[],
        xml.as_bytes(),
        202,
    )
    .await;
    assert_eq!(
        s.error_code("DELETE", "/cont/b?deletetype=permanent", &[])
            .await,
        (409, "BlobOperationNotSupported".into())
    );
    assert_eq!(
        s.error_code("DELETE", &permanent(&live), &[]).await,
        (409, "BlobSnapshotNotSoftDeleted".into())
    );
    assert_eq!(
        s.error_code(
            "DELETE",
            &format!("/cont/b?snapshot={deleted}&deletetype=soft"),
            &[]
        )
        .await,
        (400, "InvalidQueryParameterValue".into())
    );
    let r = s
        .expect("DELETE", &permanent(&deleted), &[], b"", 202)
        .await;
    assert_eq!(r.headers()["x-ms-delete-type-permanent"], "true");
    s.expect("PUT", "/cont/b?comp=undelete", &[], b"", 200)
        .await;
    assert_eq!(
        s.error_code("GET", &format!("/cont/b?snapshot={deleted}"), &[])
            .await,
        (404, "BlobNotFound".into())
    );
    s.expect("GET", &format!("/cont/b?snapshot={live}"), &[], b"", 200)
        .await;
}
