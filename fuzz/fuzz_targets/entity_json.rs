//! Entity JSON bodies: parse or give a 4xx; what parses survives the storage codec unchanged.
#![no_main]

use lapis_odata::{decode_properties, encode_properties, parse_entity, parse_table_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_entity(data) {
        Ok(entity) => {
            let bytes = encode_properties(&entity.properties);
            let back = decode_properties(&bytes).expect("own encoding decodes");
            // NaN != NaN, so compare the re-encoding rather than the values.
            assert_eq!(encode_properties(&back), bytes);
        }
        Err(e) => assert!((400..500).contains(&e.status), "{e:?}"),
    }
    if let Err(e) = parse_table_name(data) {
        assert!((400..500).contains(&e.status), "{e:?}");
    }
    // The decoder also reads what is on disk: arbitrary bytes must be an error, not a panic.
    let _ = decode_properties(data);
});
