//! The Azure Storage wire format, kept apart from the storage engine and from HTTP plumbing:
//! error codes and their XML/JSON bodies, XML request and response bodies, header names, name
//! validation, and the date and ETag formats Azure uses.
//!
//! Nothing here does I/O. Every function is pure and covered by exact-string tests.

pub mod error;
pub mod headers;
pub mod names;
pub mod percent;
pub mod tags;
pub mod time_format;
pub mod xml;

pub use error::{AzureError, ErrorCode};
