//! Azure naming rules ("Naming and Referencing Containers, Blobs, and Metadata", table names).
//!
//! Azure answers a name of the wrong length with `OutOfRangeInput` and a name with a wrong
//! character with `InvalidResourceName`; both are 400.

use crate::error::{AzureError, ErrorCode};

const NAME_LENGTH_MESSAGE: &str =
    "The specified resource name length is not within the permissible limits.";

/// Containers Azure creates itself; they break the ordinary rules with their `$`.
const SYSTEM_CONTAINERS: [&str; 3] = ["$root", "$logs", "$web"];

fn length_error() -> AzureError {
    AzureError::new(ErrorCode::OutOfRangeInput).message(NAME_LENGTH_MESSAGE)
}

fn invalid_name() -> AzureError {
    AzureError::new(ErrorCode::InvalidResourceName)
}

/// 3-63 characters of lowercase letters, digits and single dashes between them.
pub fn validate_container_name(name: &str) -> Result<(), AzureError> {
    if SYSTEM_CONTAINERS.contains(&name) {
        return Ok(());
    }
    if !(3..=63).contains(&name.len()) {
        return Err(length_error());
    }
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let edges_alnum = bytes[0] != b'-' && bytes[bytes.len() - 1] != b'-';
    if !bytes.iter().all(allowed) || !edges_alnum || name.contains("--") {
        return Err(invalid_name());
    }
    Ok(())
}

/// Queue names follow the container rules (3-63 lowercase letters, digits and single dashes
/// between them), without the system names.
pub fn validate_queue_name(name: &str) -> Result<(), AzureError> {
    if SYSTEM_CONTAINERS.contains(&name) {
        return Err(invalid_name());
    }
    validate_container_name(name)
}

/// 1-1024 characters, counted as UTF-16 code units like Azure (an emoji counts twice).
pub fn validate_blob_name(name: &str) -> Result<(), AzureError> {
    let units = name.encode_utf16().count();
    if !(1..=1024).contains(&units) {
        return Err(AzureError::new(ErrorCode::OutOfRangeInput));
    }
    Ok(())
}

/// A metadata name must be a valid C# identifier (ASCII here: it travels in a header name).
pub fn validate_metadata_name(name: &str) -> Result<(), AzureError> {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return Err(AzureError::new(ErrorCode::EmptyMetadataKey));
    };
    let valid = (first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(AzureError::new(ErrorCode::InvalidMetadata));
    }
    Ok(())
}

/// 3-63 ASCII letters and digits starting with a letter; "tables" is reserved.
pub fn validate_table_name(name: &str) -> Result<(), AzureError> {
    if !(3..=63).contains(&name.len()) {
        return Err(length_error());
    }
    let bytes = name.as_bytes();
    let valid = bytes[0].is_ascii_alphabetic() && bytes.iter().all(u8::is_ascii_alphanumeric);
    if !valid || name.eq_ignore_ascii_case("tables") {
        return Err(invalid_name());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), AzureError>) -> Option<ErrorCode> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn container_names() {
        use ErrorCode::*;
        let cases: &[(&str, Option<ErrorCode>)] = &[
            ("abc", None),
            ("my-container-1", None),
            ("123", None),
            ("a1-b2-c3", None),
            (&"a".repeat(63), None),
            ("$root", None),
            ("$logs", None),
            ("$web", None),
            ("ab", Some(OutOfRangeInput)),
            ("", Some(OutOfRangeInput)),
            (&"a".repeat(64), Some(OutOfRangeInput)),
            ("Abc", Some(InvalidResourceName)),
            ("-abc", Some(InvalidResourceName)),
            ("abc-", Some(InvalidResourceName)),
            ("ab--c", Some(InvalidResourceName)),
            ("ab_c", Some(InvalidResourceName)),
            ("ab.c", Some(InvalidResourceName)),
            ("$other", Some(InvalidResourceName)),
            ("ümlaut", Some(InvalidResourceName)),
        ];
        for (name, want) in cases {
            assert_eq!(code(validate_container_name(name)), *want, "{name:?}");
        }
    }

    #[test]
    fn queue_names_are_container_names_without_the_system_ones() {
        use ErrorCode::*;
        for (name, want) in [
            ("orders", None),
            ("orders-poison", None),
            ("q1", Some(OutOfRangeInput)),
            ("Orders", Some(InvalidResourceName)),
            ("a--b", Some(InvalidResourceName)),
            ("$root", Some(InvalidResourceName)),
            ("$logs", Some(InvalidResourceName)),
        ] {
            assert_eq!(code(validate_queue_name(name)), want, "{name:?}");
        }
    }

    #[test]
    fn container_error_has_azure_text() {
        let e = validate_container_name("Bad").unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            e.message,
            "The specifed resource name contains invalid characters."
        );
        assert_eq!(
            validate_container_name("ab").unwrap_err().message,
            NAME_LENGTH_MESSAGE
        );
    }

    #[test]
    fn blob_names_count_utf16_units() {
        assert_eq!(code(validate_blob_name("a")), None);
        assert_eq!(code(validate_blob_name("dir/sub dir/file?.txt")), None);
        assert_eq!(code(validate_blob_name(&"a".repeat(1024))), None);
        assert_eq!(code(validate_blob_name(&"阿".repeat(1024))), None);
        assert_eq!(code(validate_blob_name(&"😊".repeat(512))), None);
        assert_eq!(
            code(validate_blob_name(&"😊".repeat(513))),
            Some(ErrorCode::OutOfRangeInput)
        );
        assert_eq!(
            code(validate_blob_name(&"a".repeat(1025))),
            Some(ErrorCode::OutOfRangeInput)
        );
        assert_eq!(
            code(validate_blob_name("")),
            Some(ErrorCode::OutOfRangeInput)
        );
    }

    #[test]
    fn metadata_names() {
        use ErrorCode::*;
        for ok in ["a", "_", "Foo", "foo_bar1", "_1", "x2y"] {
            assert_eq!(code(validate_metadata_name(ok)), None, "{ok:?}");
        }
        assert_eq!(code(validate_metadata_name("")), Some(EmptyMetadataKey));
        for bad in ["1abc", "a-b", "a b", "a.b", "ä", "-"] {
            assert_eq!(
                code(validate_metadata_name(bad)),
                Some(InvalidMetadata),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn table_names() {
        use ErrorCode::*;
        let cases: &[(&str, Option<ErrorCode>)] = &[
            ("abc", None),
            ("MyTable1", None),
            (&format!("t{}", "1".repeat(62)), None),
            ("ab", Some(OutOfRangeInput)),
            (&"t".repeat(64), Some(OutOfRangeInput)),
            ("1abc", Some(InvalidResourceName)),
            ("my-table", Some(InvalidResourceName)),
            ("my_table", Some(InvalidResourceName)),
            ("tables", Some(InvalidResourceName)),
            ("Tables", Some(InvalidResourceName)),
            ("tablés", Some(InvalidResourceName)),
        ];
        for (name, want) in cases {
            assert_eq!(code(validate_table_name(name)), *want, "{name:?}");
        }
    }
}
