//! Hostile or broken requests must produce an Azure error (or anonymous), never a panic.

use lapis_auth::*;
use time::macros::datetime;

#[test]
fn garbage_never_panics() {
    let paths = [
        "",
        "/",
        "/devstoreaccount1",
        "/devstoreaccount1/%",
        "/devstoreaccount1/c/%FF%FE",
        "/devstoreaccount1/c/ü/%7c",
    ];
    let queries = [
        "sig",
        "sig=&sv=",
        "sig=%%%&sv=2020-12-06&sr=b&se=2026-13-45T99:99:99Z",
        "sig=abc&sv=2020-12-06&ss=b&srt=s&sp=r&se=2026-01-01T00:00:00+&sip=1.2.3.4-",
        "sig=abc&sv=zz&sr=c&st=2026-01-01T00:00:00.&se=2026-01-01T00:00:00.1234567890Z",
        "sig=abc&sv=2019-02-02&tn=&spk=%FF",
        "&&&=&sig==",
    ];
    let headers: [&[(&str, &str)]; 5] = [
        &[],
        &[("Authorization", "")],
        &[("Authorization", "SharedKey :")],
        &[
            ("authorization", "SharedKeyLite devstoreaccount1:%%%"),
            ("x-ms-date", "\r\n"),
        ],
        &[
            ("Authorization", "SharedKey devstoreaccount1:"),
            ("Authorization", "SharedKey devstoreaccount1:x"),
        ],
    ];
    for path in paths {
        for query in queries {
            for headers in headers {
                for service in [Service::Blob, Service::Table, Service::Queue, Service::File] {
                    let req = RequestInfo {
                        method: "GET",
                        raw_path: path,
                        raw_query: Some(query),
                        headers,
                        account: DEV_ACCOUNT,
                        client_ip: None,
                        https: false,
                    };
                    let result = authenticate(
                        &Accounts::dev(),
                        &req,
                        service,
                        datetime!(2026-01-01 0:00 UTC),
                        &|_, _| None,
                    );
                    if let Err(err) = result {
                        assert!(matches!(err.code.status(), 400 | 403), "{err:?}");
                        assert!(!err.detail.contains(DEV_KEY));
                    }
                }
            }
        }
    }
}

#[test]
fn garbage_tokens_and_user_delegation_fields_never_panic() {
    let mut oauth = OAuth::new(vec!["https://sts.windows.net/t/".into()], 300);
    oauth
        .add_jwks(include_str!("keys/jwks.json"))
        .expect("jwks");
    let accounts = Accounts::dev().with_oauth(oauth);
    let tokens = [
        "Bearer",
        "Bearer ",
        "Bearer .",
        "Bearer ..",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.",
        "Bearer eyJhbGciOiJub25lIn0.eyJleHAiOjF9.",
        "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTEifQ.%%%.AAAA",
        "bearer \u{0}\u{1}",
    ];
    let queries = [
        "",
        "sig=abc&sv=2026-10-06&sr=b&sp=r&se=2026-01-02&skoid=o&sktid=t&skt=x&ske=y&sks=b&skv=v",
        "sig=abc&sv=2018-11-09&sr=c&sp=r&se=2026-01-02&skoid=&sks=q",
        "sig=abc&sv=2026-10-06&ss=b&srt=s&sp=r&se=2026-01-02&skoid=o",
    ];
    for token in tokens {
        for query in queries {
            for https in [false, true] {
                let headers = [("Authorization", token)];
                let header_sets: [&[(&str, &str)]; 2] = [&headers, &[]];
                for headers in header_sets {
                    let req = RequestInfo {
                        method: "GET",
                        raw_path: "/devstoreaccount1/c/b",
                        raw_query: Some(query),
                        headers,
                        account: DEV_ACCOUNT,
                        client_ip: None,
                        https,
                    };
                    let result = authenticate(
                        &accounts,
                        &req,
                        Service::Blob,
                        datetime!(2026-01-01 0:00 UTC),
                        &|_, _| None,
                    );
                    if let Err(err) = result {
                        assert!(matches!(err.code.status(), 400 | 401 | 403), "{err:?}");
                    }
                }
            }
        }
    }
}
