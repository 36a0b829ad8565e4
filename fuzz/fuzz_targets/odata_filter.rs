//! The OData `$filter` language: any text parses or gives a 400; a parsed filter evaluates
//! against a row with every EDM type without panicking, and key_range never panics.
#![no_main]

use lapis_odata::{parse_filter, EdmValue};
use libfuzzer_sys::fuzz_target;
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_filter(&text) {
        Ok(filter) => {
            let props = vec![
                ("Name".to_string(), EdmValue::String("x".into())),
                ("Age".to_string(), EdmValue::Int32(i32::MIN)),
                ("Big".to_string(), EdmValue::Int64(i64::MAX)),
                ("Ratio".to_string(), EdmValue::Double(f64::NAN)),
                ("Flag".to_string(), EdmValue::Boolean(true)),
                (
                    "When".to_string(),
                    EdmValue::DateTime(datetime!(2026-01-01 0:00 UTC)),
                ),
                (
                    "Id".to_string(),
                    EdmValue::Guid("c9da6455-213d-42c9-9a79-3e9149a57833".into()),
                ),
                ("Bin".to_string(), EdmValue::Binary(vec![0, 255])),
            ];
            let _ = filter.matches("pk", "rk", datetime!(2026-01-01 0:00 UTC), &props);
            let _ = filter.matches("", "", datetime!(1601-01-01 0:00 UTC), &Vec::new());
            let _ = filter.key_range();
        }
        Err(e) => assert_eq!(e.status, 400, "{e:?}"),
    }
});
