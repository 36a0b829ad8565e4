//! Append blobs and blob index tags over raw HTTP: the answers' exact headers and bodies, and
//! the malformed requests an SDK will not send.

mod signed;

use lapis_auth::Accounts;
use lapis_server::AppState;
use lapis_store::Store;

use signed::BlobServer as Server;

async fn start() -> Server {
    let state = AppState::new(Store::in_memory().expect("store"), Accounts::dev());
    Server::start(state).await
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

const APPEND: (&str, &str) = ("x-ms-blob-type", "AppendBlob");

#[tokio::test]
async fn append_blob_answers() {
    let s = start().await;
    let created = s.send("PUT", "/cont/log", &[APPEND], b"").await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        header(&created, "x-ms-request-server-encrypted"),
        Some("true")
    );
    let first = s
        .send("PUT", "/cont/log?comp=appendblock", &[], b"hello")
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(header(&first, "x-ms-blob-append-offset"), Some("0"));
    assert_eq!(header(&first, "x-ms-blob-committed-block-count"), Some("1"));
    assert!(header(&first, "x-ms-content-crc64").is_some());
    let second = s
        .send("PUT", "/cont/log?comp=appendblock", &[], b" world")
        .await;
    assert_eq!(header(&second, "x-ms-blob-append-offset"), Some("5"));
    let head = s.send("HEAD", "/cont/log", &[], b"").await;
    assert_eq!(header(&head, "x-ms-blob-type"), Some("AppendBlob"));
    assert_eq!(header(&head, "x-ms-blob-committed-block-count"), Some("2"));
    assert_eq!(header(&head, "content-length"), Some("11"));
    assert_eq!(
        header(&head, "x-ms-blob-sealed"),
        None,
        "only a sealed blob says so"
    );
    assert_eq!(
        header(&head, "x-ms-access-tier"),
        None,
        "append blobs have no tier"
    );
    let sealed = s.send("PUT", "/cont/log?comp=seal", &[], b"").await;
    assert_eq!(sealed.status(), 200);
    assert_eq!(header(&sealed, "x-ms-blob-sealed"), Some("true"));
    let head = s.send("HEAD", "/cont/log", &[], b"").await;
    assert_eq!(header(&head, "x-ms-blob-sealed"), Some("true"));
    let refused = s.send("PUT", "/cont/log?comp=appendblock", &[], b"!").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(header(&refused, "x-ms-error-code"), Some("BlobIsSealed"));
    let list = s
        .send("GET", "/cont?restype=container&comp=list", &[], b"")
        .await;
    let xml = list.text().await.expect("body");
    assert!(xml.contains("<BlobType>AppendBlob</BlobType>"), "{xml}");
    assert!(xml.contains("<Sealed>true</Sealed>"), "{xml}");
}

#[tokio::test]
async fn malformed_append_requests_are_azure_errors() {
    let s = start().await;
    let with_body = s.send("PUT", "/cont/a", &[APPEND], b"content").await;
    assert_eq!(with_body.status(), 400);
    assert_eq!(
        header(&with_body, "x-ms-error-code"),
        Some("InvalidHeaderValue")
    );
    s.send("PUT", "/cont/a", &[APPEND], b"").await;
    for (name, value) in [
        ("x-ms-blob-condition-appendpos", "-1"),
        ("x-ms-blob-condition-maxsize", "ten"),
    ] {
        let resp = s
            .send("PUT", "/cont/a?comp=appendblock", &[(name, value)], b"x")
            .await;
        assert_eq!(resp.status(), 400, "{name}");
        assert_eq!(header(&resp, "x-ms-error-code"), Some("InvalidHeaderValue"));
        let body = resp.text().await.expect("body");
        assert!(
            body.contains(&format!("<HeaderName>{name}</HeaderName>")),
            "{body}"
        );
    }
    let empty = s.send("PUT", "/cont/a?comp=appendblock", &[], b"").await;
    assert_eq!(empty.status(), 400);
    assert_eq!(
        header(&empty, "x-ms-error-code"),
        Some("InvalidHeaderValue")
    );
    s.send(
        "PUT",
        "/cont/block",
        &[("x-ms-blob-type", "BlockBlob")],
        b"bytes",
    )
    .await;
    let wrong = s
        .send("PUT", "/cont/block?comp=appendblock", &[], b"x")
        .await;
    assert_eq!(wrong.status(), 409);
    assert_eq!(header(&wrong, "x-ms-error-code"), Some("InvalidBlobType"));
    let block_on_append = s
        .send("PUT", "/cont/a?comp=block&blockid=QUFBQQ%3D%3D", &[], b"x")
        .await;
    assert_eq!(block_on_append.status(), 409);
    assert_eq!(
        header(&block_on_append, "x-ms-error-code"),
        Some("InvalidBlobType")
    );
}

#[tokio::test]
async fn tags_answers() {
    let s = start().await;
    let put = s
        .send(
            "PUT",
            "/cont/t",
            &[
                ("x-ms-blob-type", "BlockBlob"),
                ("x-ms-tags", "a=1&b%20c=two+words"),
            ],
            b"x",
        )
        .await;
    assert_eq!(put.status(), 201);
    let head = s.send("HEAD", "/cont/t", &[], b"").await;
    assert_eq!(header(&head, "x-ms-tag-count"), Some("2"));
    let got = s.send("GET", "/cont/t?comp=tags", &[], b"").await;
    assert_eq!(got.status(), 200);
    assert_eq!(header(&got, "content-type"), Some("application/xml"));
    assert_eq!(
        got.text().await.expect("body"),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b c</Key><Value>two words</Value></Tag></TagSet></Tags>"
    );
    let set = s
        .send(
            "PUT",
            "/cont/t?comp=tags",
            &[],
            b"<Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags>",
        )
        .await;
    assert_eq!(set.status(), 204);
    let bad = s
        .send("PUT", "/cont/t?comp=tags", &[], b"<Tags><TagSet>")
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(header(&bad, "x-ms-error-code"), Some("InvalidXmlDocument"));
    let found = s
        .send("GET", "/?comp=blobs&where=%22k%22%3D'v'", &[], b"")
        .await;
    assert_eq!(found.status(), 200);
    let xml = found.text().await.expect("body");
    assert!(
        xml.contains("<Where>\"k\"='v'</Where><Blobs><Blob><Name>t</Name><ContainerName>cont</ContainerName><Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags></Blob></Blobs><NextMarker /></EnumerationResults>"),
        "{xml}"
    );
    let in_container = s
        .send(
            "GET",
            "/cont?restype=container&comp=blobs&where=%22k%22%3D'v'",
            &[],
            b"",
        )
        .await;
    assert!(in_container
        .text()
        .await
        .expect("body")
        .contains("<Name>t</Name>"));
    let missing = s
        .send(
            "GET",
            "/nosuch?restype=container&comp=blobs&where=%22k%22%3D'v'",
            &[],
            b"",
        )
        .await;
    assert_eq!(missing.status(), 404);
    for bad_query in ["where=%22k%22", "where=%22k%22%3D'v'&marker=forged"] {
        let resp = s
            .send("GET", &format!("/?comp=blobs&{bad_query}"), &[], b"")
            .await;
        assert_eq!(resp.status(), 400, "{bad_query}");
        assert_eq!(
            header(&resp, "x-ms-error-code"),
            Some("InvalidQueryParameterValue")
        );
    }
    let bad_header = s
        .send(
            "PUT",
            "/cont/u",
            &[("x-ms-blob-type", "BlockBlob"), ("x-ms-tags", "k=%FF")],
            b"x",
        )
        .await;
    assert_eq!(bad_header.status(), 400);
    assert_eq!(
        header(&bad_header, "x-ms-error-code"),
        Some("InvalidHeaderValue")
    );
}
