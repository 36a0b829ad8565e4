//! Page blob operations: Create (Put Blob with `x-ms-blob-type: PageBlob`), Put Page (update
//! and clear), Get Page Ranges (with `prevsnapshot` diffs and paging), and Set Blob Properties
//! as Resize / Update Sequence Number.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::{
    BlobHttpProps, ByteRange, PageBlobChange, PageRangeQuery, SequenceConditions,
    SequenceNumberAction, MAX_PAGE_BLOB_SIZE, MAX_PAGE_WRITE, MAX_SEQUENCE_NUMBER, PAGE_SIZE,
};
use lapis_wire::names::validate_blob_name;
use lapis_wire::time_format::parse_iso8601;
use lapis_wire::xml::{render_page_list, PageListEntry};
use lapis_wire::{AzureError, ErrorCode};

use super::any_blob::http_props_from_blob_headers;
use super::block_blob::{create_only, encrypted, map_store_write, put_blob_http_props};
use super::body::{declared_length, receive, Expected, Md5Use};
use super::cpk::{customer_key, KeyUse};
use super::{blocking, conditions, Reply};
use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::{Headers, Query};

/// Get Page Ranges answers at most this many ranges per call.
const MAX_RANGES_PER_CALL: usize = 10_000;

fn missing(name: &str) -> AzureError {
    AzureError::new(ErrorCode::MissingRequiredHeader).detail("HeaderName", name)
}

fn invalid_query(name: &str, value: &str) -> AzureError {
    AzureError::new(ErrorCode::InvalidQueryParameterValue)
        .detail("QueryParameterName", name)
        .detail("QueryParameterValue", value)
        .detail("Reason", "")
}

/// A page blob size (`x-ms-blob-content-length`): a multiple of 512 up to 8 TiB.
fn page_blob_size(headers: &Headers) -> ApiResult<Option<u64>> {
    const NAME: &str = "x-ms-blob-content-length";
    let Some(v) = headers.get(NAME) else {
        return Ok(None);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if n % PAGE_SIZE == 0 && n <= MAX_PAGE_BLOB_SIZE => Ok(Some(n)),
        _ => Err(Headers::invalid(NAME, v).into()),
    }
}

/// `x-ms-blob-sequence-number`: 0 to 2^63 - 1.
fn sequence_number(headers: &Headers) -> ApiResult<Option<u64>> {
    const NAME: &str = "x-ms-blob-sequence-number";
    let Some(v) = headers.get(NAME) else {
        return Ok(None);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if n <= MAX_SEQUENCE_NUMBER => Ok(Some(n)),
        _ => Err(Headers::invalid(NAME, v).into()),
    }
}

/// `x-ms-if-sequence-number-le/-lt/-eq`. A negative number is Azure's 400 InvalidInput
/// (recording TestBlobPutPagesIfSequenceNumberLTENegOne); one that is no number at all an
/// invalid header.
fn sequence_conditions(headers: &Headers) -> ApiResult<SequenceConditions> {
    let one = |name: &str| -> ApiResult<Option<u64>> {
        let Some(v) = headers.get(name) else {
            return Ok(None);
        };
        match v.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n as u64)),
            Ok(_) => Err(AzureError::new(ErrorCode::InvalidInput).into()),
            Err(_) => Err(Headers::invalid(name, v).into()),
        }
    };
    Ok(SequenceConditions {
        le: one("x-ms-if-sequence-number-le")?,
        lt: one("x-ms-if-sequence-number-lt")?,
        eq: one("x-ms-if-sequence-number-eq")?,
    })
}

/// The range of a Put Page: `x-ms-range` (or `Range`), `bytes=START-END`, both page-aligned.
/// Azure names `Range` in its answer whichever header carried it (TestBlobClearPagesInvalidRange).
fn page_range(headers: &Headers) -> ApiResult<(u64, u64)> {
    let Some(v) = headers.get("x-ms-range").or_else(|| headers.get("range")) else {
        return Err(missing("Range").into());
    };
    let parsed = v
        .trim()
        .strip_prefix("bytes=")
        .and_then(|spec| spec.split_once('-'))
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((start, last))
            if last >= start && start % PAGE_SIZE == 0 && (last + 1) % PAGE_SIZE == 0 =>
        {
            Ok((start, last + 1))
        }
        _ => Err(Headers::invalid("Range", v).into()),
    }
}

/// The range a Get Page Ranges lists within: a malformed one is ignored, as Azure does
/// (TestBlobGetPageRangesInvalidRange lists the whole blob for `bytes=-2-497`).
fn listing_range(headers: &Headers) -> Option<ByteRange> {
    let v = headers.get("x-ms-range").or_else(|| headers.get("range"))?;
    let (a, b) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start = a.trim().parse::<u64>().ok()?;
    let end = match b.trim() {
        "" => None,
        b => Some(b.parse::<u64>().ok().filter(|e| *e >= start)?),
    };
    Some(ByteRange { start, end })
}

pub async fn create(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let blob = ctx.blob();
    validate_blob_name(&blob)?;
    let headers = Headers::of(&req);
    let mut cond = conditions::parse_write(&headers)?;
    let refuse_existing = create_only(&ctx, &mut cond);
    if let Some(len) = declared_length(&headers).filter(|n| *n != 0) {
        return Err(Headers::invalid("Content-Length", &len.to_string()).into());
    }
    let size = page_blob_size(&headers)?.ok_or_else(|| missing("x-ms-blob-content-length"))?;
    let sequence = sequence_number(&headers)?.unwrap_or(0);
    // Page blobs take only the premium tiers (P4...P80), which a standard account such as the
    // emulator's does not offer.
    if headers.get("x-ms-access-tier").is_some() {
        return Err(AzureError::new(ErrorCode::BlobAccessTierNotSupportedForAccountType).into());
    }
    let metadata = headers.metadata()?;
    let tags = super::tags::upload_tags(&headers)?;
    let mut http = put_blob_http_props(&headers)?;
    http.content_md5 = headers.md5("x-ms-blob-content-md5")?;
    let key = customer_key(&headers, KeyUse::Write)?;
    let (account, container, c2, k2) = (ctx.account(), ctx.container(), cond.clone(), key.clone());
    let result = blocking(&ctx, move |s| {
        s.create_page_blob(
            &account,
            &container,
            &blob,
            size,
            sequence,
            &http,
            &metadata,
            &c2,
            k2.as_ref(),
            &tags,
        )
    })
    .await;
    let p = refuse_existing(map_store_write(result, &cond))?;
    let reply = Reply::new(StatusCode::CREATED)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header_opt("x-ms-version-id", p.version_id.as_ref());
    Ok(encrypted(reply, key.as_ref()).finish())
}

/// `x-ms-page-write`: true for update, false for clear.
fn page_write_is_update(headers: &Headers) -> ApiResult<bool> {
    const NAME: &str = "x-ms-page-write";
    match headers.get(NAME) {
        None => Err(missing(NAME).into()),
        Some(v) if v.eq_ignore_ascii_case("update") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("clear") => Ok(false),
        Some(v) => Err(Headers::invalid(NAME, v).into()),
    }
}

pub async fn put_page(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let headers = Headers::of_parts(&parts);
    let update = page_write_is_update(&headers)?;
    let (from, to) = page_range(&headers)?;
    let cond = conditions::parse_write(&headers)?;
    let sequence = sequence_conditions(&headers)?;
    let key = customer_key(&headers, KeyUse::Write)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    if !update {
        if let Some(len) = declared_length(&headers).filter(|n| *n != 0) {
            return Err(Headers::invalid("Content-Length", &len.to_string()).into());
        }
        let p = blocking(&ctx, move |s| {
            s.clear_pages(
                &account,
                &container,
                &blob,
                from,
                to,
                &cond,
                &sequence,
                key.as_ref(),
            )
        })
        .await?;
        return Ok(Reply::new(StatusCode::CREATED)
            .etag(&p.etag)
            .date("last-modified", p.last_modified)
            .header("x-ms-blob-sequence-number", p.sequence_number.to_string())
            .finish());
    }
    let len = to - from;
    if len > MAX_PAGE_WRITE {
        return Err(AzureError::new(ErrorCode::RequestBodyTooLarge).into());
    }
    // The body must be exactly the range.
    if declared_length(&headers).is_some_and(|n| n != len) {
        return Err(AzureError::new(ErrorCode::InvalidPageRange).into());
    }
    let expected = Expected::from_headers(&headers)?;
    write_pages(ctx, &headers, (from, to), body, expected).await
}

/// Put Page From URL: the pages of `x-ms-range` take the source's bytes of `x-ms-source-range`,
/// a range of the same length.
pub async fn put_page_from_url(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    if !page_write_is_update(&headers)? {
        return Err(Headers::invalid("x-ms-page-write", "clear").into());
    }
    let (from, to) = page_range(&headers)?;
    if to - from > MAX_PAGE_WRITE {
        return Err(AzureError::new(ErrorCode::RequestBodyTooLarge).into());
    }
    if headers.get("x-ms-source-range").is_none() {
        return Err(AzureError::new(ErrorCode::MissingRequiredHeader)
            .detail("HeaderName", "x-ms-source-range")
            .into());
    }
    let (body, expected, len) = super::copy::source_bytes(&ctx, &headers, MAX_PAGE_WRITE).await?;
    if len != to - from {
        let v = headers.get("x-ms-source-range").unwrap_or_default();
        return Err(Headers::invalid("x-ms-source-range", v).into());
    }
    write_pages(ctx, &headers, (from, to), body, expected).await
}

/// Writes `body` (checked against `expected`) as the pages `from..to`.
async fn write_pages(
    ctx: Ctx,
    headers: &Headers<'_>,
    (from, to): (u64, u64),
    body: Body,
    expected: Expected,
) -> ApiResult<Response<Body>> {
    let len = to - from;
    let cond = conditions::parse_write(headers)?;
    let sequence = sequence_conditions(headers)?;
    let key = customer_key(headers, KeyUse::Write)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let data = receive(
        &ctx.state.store,
        body,
        &expected,
        len,
        Md5Use::CheckOnly,
        key.as_ref(),
    )
    .await?;
    if data.len != len {
        return Err(AzureError::new(ErrorCode::InvalidPageRange).into());
    }
    let (md5, crc64) = (data.md5, data.crc64);
    let k2 = key.clone();
    let p = blocking(&ctx, move |s| {
        s.put_pages(
            &account,
            &container,
            &blob,
            from,
            data,
            &cond,
            &sequence,
            k2.as_ref(),
        )
    })
    .await?;
    // As Put Block: the MD5 when the client sent one, the CRC64 when it sent one or neither.
    let mut reply = encrypted(Reply::new(StatusCode::CREATED), key.as_ref())
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header("x-ms-blob-sequence-number", p.sequence_number.to_string());
    if let (Some(md5), Some(_)) = (md5, &expected.md5) {
        reply = reply.base64("content-md5", &md5);
    }
    if expected.crc64.is_some() || expected.md5.is_none() {
        reply = reply.base64("x-ms-content-crc64", &crc64.to_le_bytes());
    }
    Ok(reply.finish())
}

/// The snapshot a diff starts from: `prevsnapshot`, or the `snapshot` parameter of
/// `x-ms-previous-snapshot-url`.
fn previous_snapshot(headers: &Headers, query: &Query) -> ApiResult<Option<String>> {
    if let Some(v) = query.get("prevsnapshot") {
        return match parse_iso8601(v) {
            Some(_) => Ok(Some(v.to_string())),
            None => Err(invalid_query("prevsnapshot", v).into()),
        };
    }
    const URL: &str = "x-ms-previous-snapshot-url";
    let Some(url) = headers.get(URL) else {
        return Ok(None);
    };
    let snapshot = url
        .split_once('?')
        .map(|(_, q)| Query::parse(Some(q)))
        .and_then(|q| q.get("snapshot").map(str::to_string))
        .filter(|s| parse_iso8601(s).is_some());
    match snapshot {
        Some(s) => Ok(Some(s)),
        None => Err(Headers::invalid(URL, url).into()),
    }
}

fn paging(query: &Query) -> ApiResult<(Option<u64>, Option<usize>)> {
    let marker = match query.get("marker").filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(m.parse::<u64>().map_err(|_| invalid_query("marker", m))?),
    };
    let max = match query.get("maxresults") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n > 0 => Some((n as usize).min(MAX_RANGES_PER_CALL)),
            Ok(_) => {
                return Err(AzureError::new(ErrorCode::OutOfRangeQueryParameterValue)
                    .detail("QueryParameterName", "maxresults")
                    .detail("QueryParameterValue", v)
                    .into())
            }
            Err(_) => return Err(invalid_query("maxresults", v).into()),
        },
    };
    Ok((marker, max))
}

pub async fn get_page_ranges(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_read(&headers)?;
    let snapshot = ctx.query.get("snapshot").map(str::to_string);
    let prev_snapshot = previous_snapshot(&headers, &ctx.query)?;
    if let (Some(now), Some(before)) = (&snapshot, &prev_snapshot) {
        if parse_iso8601(before) >= parse_iso8601(now) {
            return Err(AzureError::new(ErrorCode::PreviousSnapshotCannotBeNewer).into());
        }
    }
    let (marker, max_results) = paging(&ctx.query)?;
    let paged = ctx.query.get("marker").is_some() || max_results.is_some();
    let query = PageRangeQuery {
        snapshot,
        prev_snapshot,
        range: listing_range(&headers),
        marker,
        max_results,
    };
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let list = blocking(&ctx, move |s| {
        s.get_page_ranges(&account, &container, &blob, &query, &cond)
    })
    .await?;
    let entries: Vec<PageListEntry> = list
        .ranges
        .iter()
        .map(|r| PageListEntry {
            start: r.start,
            end: r.end - 1,
            clear: r.clear,
        })
        .collect();
    let next = list.next_marker.map(|m| m.to_string());
    let xml = render_page_list(&entries, paged.then_some(next.as_deref()));
    Ok(Reply::new(StatusCode::OK)
        .etag(&list.blob.etag)
        .date("last-modified", list.blob.last_modified)
        .header("x-ms-blob-content-length", list.blob.size.to_string())
        .xml(xml)
        .finish())
}

/// The content headers Set Blob Properties replaces: all of them together when any is given,
/// none when the request only resizes or changes the sequence number.
fn content_headers(headers: &Headers) -> ApiResult<Option<BlobHttpProps>> {
    const NAMES: [&str; 6] = [
        "x-ms-blob-cache-control",
        "x-ms-blob-content-type",
        "x-ms-blob-content-md5",
        "x-ms-blob-content-encoding",
        "x-ms-blob-content-language",
        "x-ms-blob-content-disposition",
    ];
    if NAMES.iter().all(|n| headers.get(n).is_none()) {
        return Ok(None);
    }
    Ok(Some(http_props_from_blob_headers(headers)?))
}

fn sequence_action(headers: &Headers) -> ApiResult<Option<SequenceNumberAction>> {
    const ACTION: &str = "x-ms-sequence-number-action";
    const NUMBER: &str = "x-ms-blob-sequence-number";
    let Some(action) = headers.get(ACTION) else {
        return Ok(None);
    };
    let number = sequence_number(headers)?;
    let needs_number = |n: Option<u64>| n.ok_or_else(|| missing(NUMBER));
    Ok(Some(match action.to_ascii_lowercase().as_str() {
        "max" => SequenceNumberAction::Max(needs_number(number)?),
        "update" => SequenceNumberAction::Update(needs_number(number)?),
        // Incrementing takes no number.
        "increment" => match headers.get(NUMBER) {
            None => SequenceNumberAction::Increment,
            Some(v) => return Err(Headers::invalid(NUMBER, v).into()),
        },
        _ => return Err(Headers::invalid(ACTION, action).into()),
    }))
}

/// Set Blob Properties with `x-ms-blob-content-length` (Resize) and/or
/// `x-ms-sequence-number-action` (Update Sequence Number).
pub async fn set_properties(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let headers = Headers::of(&req);
    let cond = conditions::parse_write(&headers)?;
    let change = PageBlobChange {
        size: page_blob_size(&headers)?,
        sequence: sequence_action(&headers)?,
        http: content_headers(&headers)?,
    };
    let key = customer_key(&headers, KeyUse::Write)?;
    let (account, container, blob) = (ctx.account(), ctx.container(), ctx.blob());
    let p = blocking(&ctx, move |s| {
        s.set_page_blob_properties(&account, &container, &blob, &change, &cond, key.as_ref())
    })
    .await?;
    Ok(Reply::new(StatusCode::OK)
        .etag(&p.etag)
        .date("last-modified", p.last_modified)
        .header("x-ms-blob-sequence-number", p.sequence_number.to_string())
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> http::Request<()> {
        let mut req = http::Request::new(());
        for (k, v) in pairs {
            req.headers_mut()
                .insert(*k, http::HeaderValue::from_static(v));
        }
        req
    }

    fn range_of(pairs: &[(&'static str, &'static str)]) -> Result<(u64, u64), ErrorCode> {
        page_range(&Headers::of(&with(pairs))).map_err(|e| e.0.code)
    }

    #[test]
    fn put_page_ranges_are_whole_pages() {
        assert_eq!(range_of(&[("x-ms-range", "bytes=0-511")]), Ok((0, 512)));
        assert_eq!(range_of(&[("range", "bytes=512-1535")]), Ok((512, 1536)));
        // x-ms-range wins over Range.
        assert_eq!(
            range_of(&[("x-ms-range", "bytes=0-511"), ("range", "bytes=0-1023")]),
            Ok((0, 512))
        );
        for bad in [
            "bytes=0-512",
            "bytes=1-512",
            "bytes=0-",
            "bytes=512-511",
            "0-511",
        ] {
            let req = with(&[]);
            let mut req = req;
            req.headers_mut()
                .insert("x-ms-range", http::HeaderValue::from_static(bad));
            assert_eq!(
                page_range(&Headers::of(&req)).map_err(|e| e.0.code),
                Err(ErrorCode::InvalidHeaderValue),
                "{bad}"
            );
        }
        assert_eq!(range_of(&[]), Err(ErrorCode::MissingRequiredHeader));
    }

    #[test]
    fn listing_ranges_ignore_malformed_values() {
        let range = |v: &'static str| listing_range(&Headers::of(&with(&[("x-ms-range", v)])));
        assert_eq!(range("bytes=-2-497"), None);
        assert_eq!(
            range("bytes=0-1999"),
            Some(ByteRange {
                start: 0,
                end: Some(1999)
            })
        );
    }

    #[test]
    fn sequence_numbers_and_conditions() {
        let seq = |pairs| sequence_conditions(&Headers::of(&with(pairs))).map_err(|e| e.0.code);
        assert_eq!(
            seq(&[("x-ms-if-sequence-number-le", "-1")]),
            Err(ErrorCode::InvalidInput)
        );
        assert_eq!(
            seq(&[("x-ms-if-sequence-number-eq", "x")]),
            Err(ErrorCode::InvalidHeaderValue)
        );
        assert_eq!(
            seq(&[("x-ms-if-sequence-number-lt", "3")]),
            Ok(SequenceConditions {
                lt: Some(3),
                ..Default::default()
            })
        );
        let action = |pairs| sequence_action(&Headers::of(&with(pairs))).map_err(|e| e.0.code);
        assert_eq!(
            action(&[("x-ms-sequence-number-action", "garbage")]),
            Err(ErrorCode::InvalidHeaderValue)
        );
        assert_eq!(
            action(&[("x-ms-sequence-number-action", "max")]),
            Err(ErrorCode::MissingRequiredHeader)
        );
        assert_eq!(
            action(&[
                ("x-ms-sequence-number-action", "update"),
                ("x-ms-blob-sequence-number", "-1")
            ]),
            Err(ErrorCode::InvalidHeaderValue)
        );
        assert_eq!(
            action(&[("x-ms-sequence-number-action", "increment")]),
            Ok(Some(SequenceNumberAction::Increment))
        );
    }
}
