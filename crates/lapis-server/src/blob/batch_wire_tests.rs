use super::*;

const CT: &str = "multipart/mixed; boundary=batch_d537d0ad-d4cf-6ee7-17e9-21608b10aebf";

/// The body of the .NET SDK's Delete_OneFails recording against Azure (signatures shortened).
const DOTNET_BODY: &str = "--batch_d537d0ad-d4cf-6ee7-17e9-21608b10aebf\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 0\r\n\r\nDELETE /test-container/blob1 HTTP/1.1\r\nAccept: application/xml\r\nAuthorization: SharedKey acct:EO5W=\r\nx-ms-date: Tue, 23 Feb 2021 19:40:15 GMT\r\nContent-Length: 0\r\n\r\n--batch_d537d0ad-d4cf-6ee7-17e9-21608b10aebf\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nDELETE /invalidcontainer/blob3 HTTP/1.1\r\nAccept: application/xml\r\nContent-Length: 0\r\n\r\n--batch_d537d0ad-d4cf-6ee7-17e9-21608b10aebf--\r\n";

fn part(id: usize, line: &str) -> String {
    format!(
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {id}\r\n\r\n{line}\r\nContent-Length: 0\r\n\r\n"
    )
}

fn batch(parts: usize) -> String {
    let mut body: String = (0..parts)
        .map(|i| part(i, &format!("DELETE /c/b{i} HTTP/1.1")))
        .collect();
    body.push_str("--b--\r\n");
    body
}

#[test]
fn parses_the_dotnet_sdk_batch() {
    let subs = parse(Some(CT), DOTNET_BODY.as_bytes()).expect("parses");
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0].content_id, "0");
    assert_eq!(subs[0].method, "DELETE");
    assert_eq!(subs[0].url, "/test-container/blob1");
    assert!(subs[0]
        .headers
        .contains(&("Authorization".into(), "SharedKey acct:EO5W=".into())));
    assert_eq!(subs[1].content_id, "1");
    assert_eq!(subs[1].url, "/invalidcontainer/blob3");
    assert!(subs[1].body.is_empty());
}

#[test]
fn content_type_errors() {
    let body = batch(1);
    let err = parse(None, body.as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::MissingRequiredHeader);
    for ct in [
        "application/xml",
        "multipart/mixed",
        "multipart/mixed; boundary=",
    ] {
        let err = parse(Some(ct), body.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidHeaderValue, "{ct}");
        assert!(err.details.contains(&("HeaderValue".into(), ct.into())));
    }
}

#[test]
fn limits_are_256_sub_requests_and_at_least_one() {
    let ct = "multipart/mixed; boundary=b";
    assert_eq!(parse(Some(ct), batch(256).as_bytes()).unwrap().len(), 256);
    let err = parse(Some(ct), batch(257).as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ExceedsMaxBatchRequestCount);
    assert_eq!(err.status, 400);
    let err = parse(Some(ct), b"--b--\r\n").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
}

#[test]
fn malformed_parts_are_invalid_input() {
    let ct = "multipart/mixed; boundary=b";
    let line = "DELETE /c/b HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    let cases = [
        // No closing delimiter.
        part(0, "DELETE /c/b HTTP/1.1"),
        // Missing Content-ID, `Content-Id` (Azure wants it spelled so), wrong part type, wrong
        // transfer encoding.
        format!("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n{line}--b--"),
        format!("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-Id: 0\r\n\r\n{line}--b--"),
        format!("--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 0\r\n\r\n{line}--b--"),
        format!("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\nContent-ID: 0\r\n\r\n{line}--b--"),
        // Not a request line.
        format!("{}--b--", part(0, "DELETE")),
    ];
    for body in cases {
        let err = parse(Some(ct), body.as_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{body}");
    }
}

#[test]
fn renders_as_azure_lays_out_its_answer() {
    let parts = [
        SubResponse {
            content_id: Some("0".into()),
            status: 202,
            reason: "Accepted".into(),
            headers: vec![("x-ms-delete-type-permanent".into(), "true".into())],
            body: Vec::new(),
        },
        SubResponse {
            content_id: Some("1".into()),
            status: 404,
            reason: "The specified container does not exist.".into(),
            headers: vec![("x-ms-error-code".into(), "ContainerNotFound".into())],
            body: b"<Error/>".to_vec(),
        },
    ];
    let out = String::from_utf8(render("batchresponse_x", &parts)).unwrap();
    assert_eq!(
        out,
        "--batchresponse_x\r\nContent-Type: application/http\r\nContent-ID: 0\r\n\r\n\
         HTTP/1.1 202 Accepted\r\nx-ms-delete-type-permanent: true\r\n\r\n\
         --batchresponse_x\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
         HTTP/1.1 404 The specified container does not exist.\r\nx-ms-error-code: ContainerNotFound\r\n\r\n\
         <Error/>\r\n--batchresponse_x--"
    );
}

#[test]
fn reason_phrases_stay_on_one_line() {
    assert_eq!(reason_phrase("a\nb"), "a");
    assert_eq!(reason_phrase(""), "");
}
