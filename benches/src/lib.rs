//! Fixtures shared by the Criterion benchmarks in `benches/`: realistic inputs built once, so
//! each bench measures the hot path and not the setup.
//!
//! The side-by-side runner against Azurite lives in `compare/` (Python + wrk), not here.

use std::time::Duration;

use criterion::Criterion;
use lapis_auth::{sign_account_sas, Accounts, SasParams, DEV_ACCOUNT};

/// Short measurement windows: the whole `cargo bench -p lapis-benches` should take minutes, not
/// tens of minutes, on a 2-core machine shared with compilers.
pub fn quick_criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// The headers an Azure SDK sends on a 4 KiB Put Blob, minus `Authorization`.
pub const PUT_BLOB_HEADERS: &[(&str, &str)] = &[
    ("x-ms-date", "Wed, 25 Nov 2026 12:00:00 GMT"),
    ("x-ms-version", "2025-11-05"),
    ("x-ms-blob-type", "BlockBlob"),
    (
        "x-ms-client-request-id",
        "5d6e3a3c-0b8a-4f3e-9a4c-6c1d0b2e9f11",
    ),
    ("content-length", "4096"),
    ("content-type", "application/octet-stream"),
    (
        "user-agent",
        "azsdk-python-storage-blob/12.20.0 Python/3.11.2",
    ),
    ("accept", "application/xml"),
];

/// A Table entity body of the size and shape the compare runner inserts (10 properties, mixed EDM
/// types, as the Python SDK serialises them).
pub const ENTITY_JSON: &str = r#"{"PartitionKey":"p07","RowKey":"r000123","Name":"widget-123","Count":123,"Price":19.99,"Price@odata.type":"Edm.Double","Big":"9000000000","Big@odata.type":"Edm.Int64","Active":true,"When":"2026-11-25T12:00:00.1234567Z","When@odata.type":"Edm.DateTime","Id":"6f1c2a34-8d2e-4b8f-9a1e-2f3c4d5e6f70","Id@odata.type":"Edm.Guid","Blob":"AAECAwQFBgcICQ==","Blob@odata.type":"Edm.Binary","Note":"the quick brown fox jumps over the lazy dog"}"#;

/// A filter of the kind test suites send: key bounds plus property predicates.
pub const FILTER: &str = "PartitionKey eq 'p07' and RowKey ge 'r000100' and (Count gt 50 or Name eq 'widget-7') and Active eq true";

/// `n` bytes of a repeating, non-constant pattern (so nothing downstream can shortcut zeros).
pub fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// An account SAS of the dev account for the Blob and Table services, every resource type and
/// permission, valid until 2099: the query string a client appends to its URLs, so load needs no
/// signing.
pub fn dev_account_sas(version: &str) -> String {
    dev_account_sas_for(version, "bt")
}

/// The same for the services named (`b`, `q`, `t`), e.g. `"bqt"`.
pub fn dev_account_sas_for(version: &str, services: &str) -> String {
    dev_key_sas_for(DEV_ACCOUNT, version, services)
}

/// The same for `account`, an account served with the dev account's key
/// (`AZURITE_ACCOUNTS=name:<dev key>`).
pub fn dev_key_sas_for(account: &str, version: &str, services: &str) -> String {
    let params = SasParams {
        version: version.into(),
        permissions: "rwdlacup".into(),
        expiry: "2099-01-01T00:00:00Z".into(),
        protocol: "https,http".into(),
        services: services.into(),
        resource_types: "sco".into(),
        ..SasParams::default()
    };
    let key = Accounts::dev()
        .get(DEV_ACCOUNT)
        .and_then(|a| a.keys.first().cloned())
        .expect("the dev account has a key");
    sign_account_sas(account, &key, &params)
}

/// An in-memory store and an on-disk one (its folder kept alive beside it), each with
/// `container` created, for engine benches that compare the two.
pub fn memory_and_disk_stores(
    account: &str,
    container: &str,
) -> Vec<(&'static str, lapis_store::Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let disk = lapis_store::Store::open(dir.path()).expect("open on-disk store");
    let memory = lapis_store::Store::in_memory().expect("open in-memory store");
    let out = vec![("memory", memory, None), ("disk", disk, Some(dir))];
    for (_, store, _) in &out {
        store
            .create_container(
                account,
                container,
                &Vec::new(),
                lapis_store::PublicAccess::None,
            )
            .expect("create container");
    }
    out
}
