//! Shared Key, Shared Key Lite and SAS parsing: any path, query and headers give a principal or a
//! 400/403 Azure error, and an error never echoes the account key.
#![no_main]

use lapis_auth::{authenticate, Accounts, RequestInfo, Service, DEV_ACCOUNT, DEV_KEY};
use libfuzzer_sys::fuzz_target;
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    // Layout: service byte, then "\n"-separated fields: path, query, and header lines "name:value".
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or("");
    let query = lines.next();
    let pairs: Vec<(&str, &str)> = lines
        .map(|l| l.split_once(':').unwrap_or((l, "")))
        .collect();
    let service = match selector % 4 {
        0 => Service::Blob,
        1 => Service::Table,
        2 => Service::Queue,
        _ => Service::File,
    };
    let method = ["GET", "PUT", "DELETE", "HEAD"][(selector as usize / 4) % 4];
    let req = RequestInfo {
        method,
        raw_path: path,
        raw_query: query,
        headers: &pairs,
        account: DEV_ACCOUNT,
        client_ip: None,
        https: selector & 0x80 != 0,
    };
    let accounts = Accounts::dev();
    if let Err(err) = authenticate(
        &accounts,
        &req,
        service,
        datetime!(2026-01-01 0:00 UTC),
        &|_, _| None,
    ) {
        assert!(matches!(err.code.status(), 400 | 403), "{err:?}");
        assert!(!err.detail.contains(DEV_KEY));
    }
});
