//! Shared Key and SAS verification of a 4 KiB Put Blob, as the server runs it on every request.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lapis_auth::{
    authenticate, sign_shared_key, Accounts, Principal, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY,
};
use lapis_benches::{quick_criterion, PUT_BLOB_HEADERS};
use time::OffsetDateTime;

const PATH: &str = "/devstoreaccount1/bench/some/dir/blob-000123.bin";

fn dev_key() -> Vec<u8> {
    // The well-known emulator key, decoded the way `Accounts::dev` does.
    let accounts = Accounts::dev();
    accounts
        .get(DEV_ACCOUNT)
        .and_then(|a| a.keys.first().cloned())
        .unwrap_or_else(|| DEV_KEY.as_bytes().to_vec())
}

fn request<'a>(headers: &'a [(&'a str, &'a str)], query: Option<&'a str>) -> RequestInfo<'a> {
    RequestInfo {
        method: "PUT",
        raw_path: PATH,
        raw_query: query,
        headers,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: false,
    }
}

fn shared_key(c: &mut Criterion) {
    let accounts = Accounts::dev();
    let key = dev_key();
    let authorization = sign_shared_key(
        DEV_ACCOUNT,
        &key,
        &request(PUT_BLOB_HEADERS, None),
        Service::Blob,
        false,
    );
    let mut headers = PUT_BLOB_HEADERS.to_vec();
    headers.push(("authorization", &authorization));
    let req = request(&headers, None);
    // The fixture's own x-ms-date: a Shared Key request must be within 15 minutes of now.
    let now = time::macros::datetime!(2026-11-25 12:00 UTC);
    // A bench of a failing path would measure the wrong thing.
    let principal = authenticate(&accounts, &req, Service::Blob, now, &|_, _| None);
    assert!(
        matches!(principal, Ok(Principal::SharedKey { .. })),
        "fixture must verify"
    );
    c.bench_function("auth/shared_key_put_blob", |b| {
        b.iter(|| authenticate(&accounts, black_box(&req), Service::Blob, now, &|_, _| None))
    });
}

fn account_sas(c: &mut Criterion) {
    let accounts = Accounts::dev();
    // The whole query string, as a client appends it to the URL.
    let query = lapis_benches::dev_account_sas("2025-11-05");
    let req = request(PUT_BLOB_HEADERS, Some(&query));
    let now = OffsetDateTime::now_utc();
    let principal = authenticate(&accounts, &req, Service::Blob, now, &|_, _| None);
    assert!(
        matches!(principal, Ok(Principal::Sas(_))),
        "fixture must verify: {principal:?}"
    );
    c.bench_function("auth/account_sas_put_blob", |b| {
        b.iter(|| authenticate(&accounts, black_box(&req), Service::Blob, now, &|_, _| None))
    });
}

criterion_group! { name = benches; config = quick_criterion(); targets = shared_key, account_sas }
criterion_main!(benches);
