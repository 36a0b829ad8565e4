//! Blob Batch on the wire: the `multipart/mixed` request body split into sub-requests (with the
//! Table `$batch` helpers of `lapis_odata::batch`, which share the MIME layout), and the
//! response body laid out as Azure's recorded answers are.

use lapis_odata::batch::{boundary_of, find_header, parse_embedded_request, split_headers};
use lapis_wire::{AzureError, ErrorCode};

/// Azure's limit of sub-requests in one batch.
pub const MAX_SUBREQUESTS: usize = 256;

/// One `application/http` part of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRequest {
    pub content_id: String,
    pub method: String,
    /// As sent: `/container/blob?query` (relative to the account) or path-style with the account.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Azure's answer to a batch body it cannot read: the message names no detail.
fn invalid_input() -> AzureError {
    AzureError::new(ErrorCode::InvalidInput)
}

/// Splits the batch body into its sub-requests, with Azure's errors for a missing or wrong
/// Content-Type, a body that is not a well-formed batch, an empty batch and too many parts.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Vec<SubRequest>, AzureError> {
    let Some(content_type) = content_type else {
        return Err(
            AzureError::new(ErrorCode::MissingRequiredHeader).detail("HeaderName", "Content-Type")
        );
    };
    let boundary = boundary_of(content_type).ok_or_else(|| {
        AzureError::new(ErrorCode::InvalidHeaderValue)
            .detail("HeaderName", "Content-Type")
            .detail("HeaderValue", content_type)
    })?;
    let parts =
        lapis_odata::batch::split_multipart(body, &boundary).map_err(|_| invalid_input())?;
    if parts.is_empty() {
        return Err(invalid_input());
    }
    if parts.len() > MAX_SUBREQUESTS {
        return Err(AzureError::new(ErrorCode::ExceedsMaxBatchRequestCount));
    }
    parts.into_iter().map(parse_part).collect()
}

/// One part: `Content-Type: application/http`, `Content-Transfer-Encoding: binary` and a
/// `Content-ID`, then the embedded request.
fn parse_part(part: &[u8]) -> Result<SubRequest, AzureError> {
    let (mime, http) = split_headers(part).map_err(|_| invalid_input())?;
    let is = |name: &str, want: &str| {
        find_header(&mime, name).is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
    };
    if !is("Content-Type", "application/http") || !is("Content-Transfer-Encoding", "binary") {
        return Err(invalid_input());
    }
    // Azure answers 400 to a part naming it `Content-Id` (object_store's Azure client, which
    // writes it so on purpose), so the name is matched exactly.
    let Some(content_id) = mime
        .iter()
        .find(|(name, _)| name == "Content-ID")
        .map(|(_, value)| value.clone())
    else {
        return Err(invalid_input());
    };
    let request = parse_embedded_request(&mime, http).map_err(|_| invalid_input())?;
    Ok(SubRequest {
        content_id,
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
    })
}

/// One sub-response, in the batch's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubResponse {
    /// `None` for the single part answering a batch refused as a whole.
    pub content_id: Option<String>,
    pub status: u16,
    /// `Accepted` for a success; the error's message for a failure, as Azure writes it.
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The response body, as in Azure's recordings: each part `Content-Type: application/http`
/// and its `Content-ID`, the status line, headers, a blank line and the body (followed by a
/// line break when there is one); the closing delimiter ends the body without a line break.
pub fn render(boundary: &str, parts: &[SubResponse]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + parts.len() * 256);
    for part in parts {
        push(
            &mut out,
            &["--", boundary, "\r\nContent-Type: application/http\r\n"],
        );
        if let Some(id) = &part.content_id {
            push(&mut out, &["Content-ID: ", id, "\r\n"]);
        }
        let status = part.status.to_string();
        push(
            &mut out,
            &["\r\nHTTP/1.1 ", &status, " ", &part.reason, "\r\n"],
        );
        for (name, value) in &part.headers {
            push(&mut out, &[name, ": ", value, "\r\n"]);
        }
        out.extend_from_slice(b"\r\n");
        if !part.body.is_empty() {
            out.extend_from_slice(&part.body);
            out.extend_from_slice(b"\r\n");
        }
    }
    push(&mut out, &["--", boundary, "--"]);
    out
}

fn push(out: &mut Vec<u8>, pieces: &[&str]) {
    for piece in pieces {
        out.extend_from_slice(piece.as_bytes());
    }
}

/// A status line's reason phrase may not break the line.
pub fn reason_phrase(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
#[path = "batch_wire_tests.rs"]
mod tests;
