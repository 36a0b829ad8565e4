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
