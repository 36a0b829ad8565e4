//! Every XML request body parser returns a value or InvalidXmlDocument / InvalidXmlNodeValue.
#![no_main]

use lapis_wire::xml::{parse_block_list, parse_signed_identifiers, ServiceProperties};
use lapis_wire::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check(code: ErrorCode) {
    assert!(
        matches!(
            code,
            ErrorCode::InvalidXmlDocument | ErrorCode::InvalidXmlNodeValue
        ),
        "unexpected {code}"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Err(e) = parse_block_list(data) {
        check(e.code);
    }
    if let Err(e) = parse_signed_identifiers(data) {
        check(e.code);
    }
    if let Err(e) = ServiceProperties::parse(data) {
        check(e.code);
    }
});
