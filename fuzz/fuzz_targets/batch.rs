//! `$batch` multipart bodies: any body, with a fixed or a fuzzed Content-Type, parses or gives a
//! 4xx, and never yields more operations than Azure allows.
#![no_main]

use lapis_odata::batch::MAX_OPERATIONS;
use lapis_odata::parse_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First line (if the input starts with '#') is the Content-Type; otherwise a fixed boundary.
    let (content_type, body) = match data.strip_prefix(b"#") {
        Some(rest) => {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let ct = String::from_utf8_lossy(&rest[..end]).into_owned();
            (ct, rest.get(end + 1..).unwrap_or(&[]))
        }
        None => ("multipart/mixed; boundary=batch_1".to_string(), data),
    };
    match parse_batch(&content_type, body) {
        Ok(batch) => assert!(batch.operations.len() <= MAX_OPERATIONS),
        Err(e) => assert!((400..500).contains(&e.status), "{e:?}"),
    }
});
