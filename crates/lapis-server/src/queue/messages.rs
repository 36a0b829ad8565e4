//! Message operations: Put, Get, Peek, Delete and Update Message, Clear Messages. Visibility and
//! expiry are times stored with each message and compared with the request's time, so they hold
//! across restarts.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_store::QueueMessage;
use lapis_wire::time_format::rfc1123;
use lapis_wire::xml::{parse_queue_message, render_messages, MessageEntry, MessageView};
use lapis_wire::{AzureError, ErrorCode};
use time::Duration;

use super::params::{self, SEVEN_DAYS};
use super::queues::run;
use super::QueueCtx;
use crate::common::read_small_body;
use crate::common::Reply;
use crate::error::{ApiError, ApiResult};

/// A message's text may be 64 KiB of UTF-8 (after XML decoding).
const MAX_MESSAGE: usize = 64 * 1024;
/// The request body around it may be larger (character references, whitespace); past this it
/// cannot hold a message of 64 KiB.
const MAX_MESSAGE_BODY: usize = 8 * MAX_MESSAGE;

fn too_large() -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::RequestBodyTooLarge).detail("MaxLimit", MAX_MESSAGE.to_string()),
    )
}

/// A Put or Update Message body, refused past the size no message of 64 KiB needs.
async fn message_body(req: Request<Body>) -> ApiResult<bytes::Bytes> {
    read_small_body(req, MAX_MESSAGE_BODY)
        .await
        .map_err(|e| match e.0.code {
            ErrorCode::RequestBodyTooLarge => too_large(),
            _ => e,
        })
}

/// The `<MessageText>` of a body, within Azure's limit.
fn message_text(body: &[u8]) -> ApiResult<String> {
    let text = parse_queue_message(body)?;
    if text.len() > MAX_MESSAGE {
        return Err(too_large());
    }
    Ok(text)
}

fn entry(m: &QueueMessage) -> MessageEntry<'_> {
    MessageEntry {
        id: &m.id,
        inserted: m.inserted,
        expires: m.expires,
        next_visible: m.next_visible,
        dequeue_count: m.dequeue_count,
        pop_receipt: &m.pop_receipt,
        text: &m.text,
    }
}

fn message_list(
    status: StatusCode,
    view: MessageView,
    messages: &[QueueMessage],
) -> Response<Body> {
    let entries: Vec<MessageEntry> = messages.iter().map(entry).collect();
    Reply::new(status)
        .xml(render_messages(view, &entries))
        .finish()
}

/// Put Message: 201 with the message's id, times and pop receipt.
pub async fn put(ctx: QueueCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let visibility = params::integer(&ctx.query, "visibilitytimeout", 0, SEVEN_DAYS, Some(0))?;
    let ttl = params::time_to_live(&ctx.query)?;
    // A message must become visible before it expires. Azure checks this against a `messagettl`
    // the request gives (recorded: 30 and 30 is refused); with the default of seven days the
    // longest visibility timeout, seven days, is accepted.
    let given_ttl = ttl.filter(|_| ctx.query.get("messagettl").is_some());
    if given_ttl.is_some_and(|ttl| visibility >= ttl) {
        return Err(AzureError::new(ErrorCode::InvalidQueryParameterValue)
            .detail("QueryParameterName", "visibilitytimeout")
            .detail("QueryParameterValue", visibility.to_string())
            .detail(
                "Reason",
                "messagettl must be greater than visibilitytimeout.",
            )
            .into());
    }
    let text = message_text(&message_body(req).await?)?;
    let now = ctx.now;
    let visible_at = now + Duration::seconds(visibility);
    let expires = ttl.map(|ttl| now + Duration::seconds(ttl));
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let message = run(&ctx, move |s| {
        s.put_message(&account, &queue, &text, now, visible_at, expires)
    })
    .await?;
    Ok(message_list(
        StatusCode::CREATED,
        MessageView::Enqueued,
        std::slice::from_ref(&message),
    ))
}

/// Get Messages: up to `numofmessages` visible messages, each hidden for `visibilitytimeout`
/// seconds (30 by default) under a new pop receipt.
pub async fn get(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let count = params::number_of_messages(&ctx.query)?;
    let visibility = params::integer(&ctx.query, "visibilitytimeout", 1, SEVEN_DAYS, Some(30))?;
    let now = ctx.now;
    let visible_at = now + Duration::seconds(visibility);
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let messages = run(&ctx, move |s| {
        s.get_messages(&account, &queue, count, now, visible_at)
    })
    .await?;
    Ok(message_list(
        StatusCode::OK,
        MessageView::Dequeued,
        &messages,
    ))
}

/// Peek Messages: the messages Get Messages would return, unchanged and without pop receipts.
pub async fn peek(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let count = params::number_of_messages(&ctx.query)?;
    let now = ctx.now;
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    let messages = run(&ctx, move |s| s.peek_messages(&account, &queue, count, now)).await?;
    Ok(message_list(StatusCode::OK, MessageView::Peeked, &messages))
}

fn message_id(ctx: &QueueCtx) -> String {
    match &ctx.path {
        super::QueuePath::Message(_, id) => id.clone(),
        _ => String::new(),
    }
}

/// Delete Message: the message's current pop receipt is required.
pub async fn delete(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let pop_receipt = params::pop_receipt(&ctx.query)?;
    let now = ctx.now;
    let (account, queue, id) = (ctx.account.clone(), ctx.queue(), message_id(&ctx));
    run(&ctx, move |s| {
        s.delete_message(&account, &queue, &id, &pop_receipt, now)
    })
    .await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

/// Update Message: a new visibility timeout (required) and, when the request has a body, new
/// text; answers the new pop receipt and next visible time.
pub async fn update(ctx: QueueCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let pop_receipt = params::pop_receipt(&ctx.query)?;
    let visibility = params::integer(&ctx.query, "visibilitytimeout", 0, SEVEN_DAYS, None)?;
    // Without a body (or an empty one) only the visibility changes.
    let body = message_body(req).await?;
    let text = match body.iter().all(u8::is_ascii_whitespace) {
        true => None,
        false => Some(message_text(&body)?),
    };
    let now = ctx.now;
    let visible_at = now + Duration::seconds(visibility);
    let (account, queue, id) = (ctx.account.clone(), ctx.queue(), message_id(&ctx));
    let updated = run(&ctx, move |s| {
        s.update_message(
            &account,
            &queue,
            &id,
            &pop_receipt,
            text.as_deref(),
            now,
            visible_at,
        )
    })
    .await?;
    Ok(Reply::new(StatusCode::NO_CONTENT)
        .header("x-ms-popreceipt", &updated.pop_receipt)
        .header("x-ms-time-next-visible", rfc1123(updated.next_visible))
        .finish())
}

/// Clear Messages: every message of the queue, visible or not.
pub async fn clear(ctx: QueueCtx) -> ApiResult<Response<Body>> {
    let (account, queue) = (ctx.account.clone(), ctx.queue());
    run(&ctx, move |s| s.clear_messages(&account, &queue)).await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}
