use super::*;

const PY_BODY: &[u8] = include_bytes!("../testdata/python_batch_request.txt");
const PY_CT: &str = include_str!("../testdata/python_batch_content_type.txt");
const GO_BODY: &[u8] = include_bytes!("../testdata/go_batch_request.txt");
const AZURE_ERROR_RESPONSE: &[u8] = include_bytes!("../testdata/azure_batch_error_response.txt");

#[test]
fn parses_python_sdk_changeset() {
    let b = parse_batch(PY_CT, PY_BODY).expect("python batch parses");
    assert_eq!(
        b.batch_boundary,
        "batch_e16b8183-915e-495a-89e0-1f9133a8606d"
    );
    assert_eq!(
        b.changeset_boundary,
        "changeset_4c3c86bc-7ae7-49bd-afed-91adaae94598"
    );
    let methods: Vec<&str> = b.operations.iter().map(|o| o.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "PUT", "DELETE"]);
    assert_eq!(
        b.operations[1].url,
        "http://127.0.0.1:33783/devstoreaccount1/mytable(PartitionKey='p',RowKey='2')"
    );
    let ids: Vec<Option<&str>> = b
        .operations
        .iter()
        .map(|o| o.content_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("0"), Some("1"), Some("2"), Some("3")]);
    assert_eq!(b.operations[2].header("if-match"), Some("*"));
    let first = &b.operations[0];
    assert_eq!(
        first.body.len().to_string(),
        first.header("Content-Length").unwrap_or_default()
    );
    let entity = crate::json_in::parse_entity(&first.body).expect("sub-request body parses");
    assert_eq!(entity.row_key.as_deref(), Some("1"));
    assert!(b.operations[3].body.is_empty());
}

#[test]
fn parses_go_sdk_changeset_from_recording() {
    let ct = "multipart/mixed; boundary=batch_00000000-0000-0000-0000-000000000000";
    let b = parse_batch(ct, GO_BODY).expect("go batch parses");
    assert_eq!(b.operations.len(), 3);
    for (i, op) in b.operations.iter().enumerate() {
        assert_eq!(op.method, "POST");
        assert_eq!(op.header("Prefer"), Some("return-no-content"));
        assert_eq!(op.body.len(), 194);
        let e = crate::json_in::parse_entity(&op.body).expect("body parses");
        assert_eq!(e.row_key, Some((i + 1).to_string()));
    }
}

#[test]
fn parses_lone_query_and_bare_lf() {
    let body = "--b1\nContent-Type: application/http\n\nGET http://h/a/t(PartitionKey='p',RowKey='r') HTTP/1.1\nAccept: application/json\n\n\n--b1--\n";
    let b = parse_batch("multipart/mixed; boundary=b1", body.as_bytes()).expect("parses");
    assert_eq!(b.changeset_boundary, "");
    assert_eq!(b.operations[0].method, "GET");
    assert_eq!(b.operations[0].header("accept"), Some("application/json"));
}

#[test]
fn rejects_malformed_batches() {
    let cases: &[(&str, &[u8])] = &[
        ("application/json", b"x"),
        ("multipart/mixed", b"--b\r\n\r\n--b--"),
        ("multipart/mixed; boundary=b", b""),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n\r\n"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\nPOST x HTTP/1.1\r\n\r\n\r\n--b--"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nnot a request line\r\n\r\n\r\n--c--\r\n--b--"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c--\r\n--b--"),
    ];
    for (ct, body) in cases {
        let err = parse_batch(ct, body).expect_err("must be refused");
        assert_eq!(
            err.code,
            ErrorCode::InvalidInput,
            "{ct} {:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn refuses_more_than_100_operations() {
    let mut body = String::from("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n");
    for _ in 0..101 {
        body.push_str("--c\r\nContent-Type: application/http\r\n\r\nDELETE http://h/a/t(PartitionKey='p',RowKey='r') HTTP/1.1\r\nIf-Match: *\r\n\r\n\r\n");
    }
    body.push_str("--c--\r\n--b--\r\n");
    let err = parse_batch("multipart/mixed; boundary=b", body.as_bytes()).expect_err("too many");
    assert!(err.message.contains("100"));
}

#[test]
fn renders_failure_exactly_like_azure() {
    let error_body = r#"{"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"2:The specified entity already exists.\nRequestId:123ec98d-d002-00a9-036c-4f34c3000000\nTime:2022-04-13T19:29:04.2712828Z"}}}"#;
    let response = BatchOperationResponse {
        status: 409,
        status_text: "Conflict",
        headers: vec![
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("Cache-Control".into(), "no-cache".into()),
            ("Preference-Applied".into(), "return-no-content".into()),
            ("DataServiceVersion".into(), "3.0;".into()),
            (
                "Content-Type".into(),
                "application/json;odata=minimalmetadata;streaming=true;charset=utf-8".into(),
            ),
        ],
        body: error_body.as_bytes().to_vec(),
        content_id: None,
    };
    let (ct, body) = render_batch_response(
        "batchresponse_377b7eed-988f-4b9f-9e0f-8a1d09b47f46",
        "changesetresponse_349f1da0-6365-40f2-99ad-ea4fdf3be0ef",
        &[response],
    );
    assert_eq!(
        ct,
        "multipart/mixed; boundary=batchresponse_377b7eed-988f-4b9f-9e0f-8a1d09b47f46"
    );
    assert_eq!(
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(AZURE_ERROR_RESPONSE)
    );
}

#[test]
fn renders_success_with_empty_bodies_and_content_ids() {
    let ok = |id: &str| BatchOperationResponse {
        status: 204,
        status_text: "No Content",
        headers: vec![("ETag".into(), "W/\"x\"".into())],
        body: Vec::new(),
        content_id: Some(id.into()),
    };
    let (_, body) = render_batch_response("B", "C", &[ok("0"), ok("1")]);
    let part = "--C\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/\"x\"\r\n\r\n\r\n";
    let expected = format!(
        "--B\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n{}{}--C--\r\n--B--\r\n",
        part.replace("{}", "0"),
        part.replace("{}", "1")
    );
    assert_eq!(String::from_utf8_lossy(&body), expected);
}
