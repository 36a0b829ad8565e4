//! Entity group transactions (`POST /account/$batch`): up to 100 writes to one partition of one
//! table, all or nothing. A failure answers 202 with a single sub-response naming the failing
//! operation's index (`"2:The specified entity already exists."`), as Azure does.

use std::collections::HashSet;

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_auth::Operation;
use lapis_odata::{
    encode_properties, entity_etag, parse_batch, parse_entity, render_batch_response,
    BatchOperation, BatchOperationResponse, Metadata,
};
use lapis_store::{EntityOp, EntityOpKind, EntityWrite};
use lapis_wire::{AzureError, ErrorCode};

use super::entities::{if_match, merge_fn, render_record, MAX_ENTITY_BODY};
use super::path::{self, entity_url, TablePath};
use super::{sas_allows, sas_allows_entity, TableCtx};
use crate::common::read_small_body;
use crate::common::Reply;
use crate::error::{ApiError, ApiResult};

/// A batch body holds up to 100 entities of up to 1 MiB each, but Azure caps the whole at 4 MiB.
const MAX_BATCH_BODY: usize = 4 * 1024 * 1024 + 64 * 1024;

/// One parsed sub-request, ready for the engine.
struct Planned {
    op: EntityOp,
    table: String,
    insert: bool,
    no_content: bool,
    content_id: Option<String>,
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        _ => "Error",
    }
}

/// Reads one sub-request into an engine operation; errors carry no index yet.
fn plan(ctx: &TableCtx, sub: &BatchOperation) -> ApiResult<Planned> {
    // The sub-request URL is absolute; only its path matters.
    let after_scheme = sub
        .url
        .split_once("://")
        .map_or(sub.url.as_str(), |(_, rest)| rest);
    let raw_path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let raw_path = raw_path.split('?').next().unwrap_or(raw_path);
    let (account, target) = path::parse(raw_path)?;
    if account != ctx.account {
        return Err(AzureError::new(ErrorCode::InvalidInput)
            .message("A batch may address one account only.")
            .into());
    }
    let TablePath::Entities { table, keys } = target else {
        return Err(AzureError::new(ErrorCode::InvalidInput)
            .message("A batch operation must address an entity.")
            .into());
    };
    let condition = sub.header("if-match").map(if_match);
    let no_content = sub
        .header("prefer")
        .is_some_and(|p| p.contains("return-no-content"));
    let method = match (sub.method.as_str(), sub.header("x-http-method")) {
        ("POST", Some(over)) => over.to_ascii_uppercase(),
        (m, _) => m.to_ascii_uppercase(),
    };
    let body = || -> ApiResult<_> {
        if sub.body.len() > MAX_ENTITY_BODY {
            return Err(AzureError::new(ErrorCode::EntityTooLarge).into());
        }
        Ok(parse_entity(&sub.body)?)
    };
    let (partition_key, row_key, kind, insert) = match (method.as_str(), keys) {
        ("POST", None) => {
            let parsed = body()?;
            let (Some(pk), Some(rk)) = (parsed.partition_key, parsed.row_key) else {
                return Err(AzureError::new(ErrorCode::PropertiesNeedValue).into());
            };
            let props = encode_properties(&parsed.properties);
            (
                pk,
                rk,
                EntityOpKind::Write {
                    write: EntityWrite::Insert,
                    properties: props,
                },
                true,
            )
        }
        ("PUT" | "MERGE" | "PATCH", Some((pk, rk))) => {
            let parsed = body()?;
            let merge = method != "PUT";
            let write = match (merge, condition) {
                (false, Some(c)) => EntityWrite::Update { if_match: c },
                (false, None) => EntityWrite::InsertOrReplace,
                (true, Some(c)) => EntityWrite::Merge { if_match: c },
                (true, None) => EntityWrite::InsertOrMerge,
            };
            (
                pk,
                rk,
                EntityOpKind::Write {
                    write,
                    properties: encode_properties(&parsed.properties),
                },
                false,
            )
        }
        ("DELETE", Some((pk, rk))) => {
            let Some(c) = condition else {
                return Err(AzureError::new(ErrorCode::MissingRequiredHeader)
                    .detail("HeaderName", "If-Match")
                    .into());
            };
            (pk, rk, EntityOpKind::Delete { if_match: c }, false)
        }
        _ => {
            return Err(AzureError::new(ErrorCode::InvalidInput)
                .message(format!(
                    "The batch operation {method} {} is not supported.",
                    sub.url
                ))
                .into())
        }
    };
    let op = match &kind {
        EntityOpKind::Delete { .. } => Operation::DeleteEntity,
        EntityOpKind::Write { write, .. } => match write {
            EntityWrite::Insert => Operation::InsertEntity,
            EntityWrite::Update { .. } => Operation::UpdateEntity,
            EntityWrite::Merge { .. } => Operation::MergeEntity,
            EntityWrite::InsertOrReplace => Operation::InsertOrReplaceEntity,
            EntityWrite::InsertOrMerge => Operation::InsertOrMergeEntity,
        },
    };
    if let Some(grant) = &ctx.grant {
        sas_allows(grant, &table, op)?;
        sas_allows_entity(Some(grant), &partition_key, &row_key)?;
    }
    if let Some(bearer) = &ctx.bearer {
        bearer.authorize(op)?;
    }
    Ok(Planned {
        op: EntityOp {
            partition_key,
            row_key,
            kind,
        },
        table,
        insert,
        no_content,
        content_id: sub.content_id.clone(),
    })
}

/// The single sub-response Azure sends when a batch fails.
fn failure(
    index: usize,
    err: ApiError,
    content_id: Option<String>,
    request_id: &str,
) -> BatchOperationResponse {
    let err = err.0;
    let message = format!("{index}:{}", err.message);
    let body = AzureError {
        message,
        ..err.clone()
    }
    .to_json(request_id, time::OffsetDateTime::now_utc());
    BatchOperationResponse {
        status: err.status,
        status_text: status_text(err.status),
        headers: vec![
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("DataServiceVersion".into(), "3.0;".into()),
            (
                "Content-Type".into(),
                "application/json;odata=minimalmetadata;streaming=true;charset=utf-8".into(),
            ),
        ],
        body: body.into_bytes(),
        content_id,
    }
}

pub async fn execute(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = read_small_body(req, MAX_BATCH_BODY).await?;
    let batch = parse_batch(&content_type, &body)?;
    if batch.changeset_boundary.is_empty() {
        return Err(ApiError(
            AzureError::new(ErrorCode::NotImplemented)
                .message("Lapis does not implement a query inside $batch yet."),
        ));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let batch_out = format!("batchresponse_{}", uuid::Uuid::new_v4());
    let changeset_out = format!("changesetresponse_{}", uuid::Uuid::new_v4());
    let answer = |responses: Vec<BatchOperationResponse>| {
        let (content_type, body) = render_batch_response(&batch_out, &changeset_out, &responses);
        let len = body.len() as u64;
        Reply::new(StatusCode::ACCEPTED)
            .header("content-type", content_type)
            .header("dataserviceversion", "3.0;")
            .body(Body::from(body), len)
            .finish()
    };

    // Plan every operation first: any invalid one fails the batch before anything is written.
    let mut planned = Vec::with_capacity(batch.operations.len());
    let mut rows = HashSet::new();
    for (index, sub) in batch.operations.iter().enumerate() {
        let p = match plan(&ctx, sub) {
            Ok(p) => p,
            Err(e) => {
                return Ok(answer(vec![failure(
                    index,
                    e,
                    sub.content_id.clone(),
                    &request_id,
                )]))
            }
        };
        let first: Option<&Planned> = planned.first();
        if let Some(first) = first {
            let fail = |code: ErrorCode| ApiError(AzureError::new(code));
            if !first.table.eq_ignore_ascii_case(&p.table)
                || first.op.partition_key != p.op.partition_key
            {
                let e = fail(ErrorCode::CommandsInBatchActOnDifferentPartitions);
                return Ok(answer(vec![failure(index, e, p.content_id, &request_id)]));
            }
        }
        if !rows.insert((p.op.partition_key.clone(), p.op.row_key.clone())) {
            let e = ApiError(AzureError::new(ErrorCode::InvalidDuplicateRow));
            return Ok(answer(vec![failure(index, e, p.content_id, &request_id)]));
        }
        planned.push(p);
    }
    let Some(table) = planned.first().map(|p| p.table.clone()) else {
        return Ok(answer(Vec::new()));
    };
    let ops: Vec<EntityOp> = planned.iter().map(|p| p.op.clone()).collect();
    let (account, t, merge) = (ctx.account.clone(), table.clone(), merge_fn());
    let store = ctx.state.store.clone();
    let outcome =
        tokio::task::spawn_blocking(move || store.execute_batch(&account, &t, ops, &merge)).await?;
    let records = match outcome {
        Ok(records) => records,
        Err(f) => {
            let content_id = planned.get(f.index).and_then(|p| p.content_id.clone());
            return Ok(answer(vec![failure(
                f.index,
                ApiError::from(f.error),
                content_id,
                &request_id,
            )]));
        }
    };
    let mut responses = Vec::with_capacity(planned.len());
    for (p, rec) in planned.iter().zip(records) {
        let mut headers = vec![
            ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
            ("Cache-Control".to_string(), "no-cache".to_string()),
            ("DataServiceVersion".to_string(), "3.0;".to_string()),
        ];
        let mut status = 204;
        let mut body = Vec::new();
        if let Some(rec) = &rec {
            let etag = entity_etag(rec.timestamp);
            if p.insert {
                let location = entity_url(&ctx.base_url, &table, &rec.partition_key, &rec.row_key);
                headers.push(("Location".into(), location.clone()));
                headers.push(("DataServiceId".into(), location));
                if p.no_content {
                    headers.push(("Preference-Applied".into(), "return-no-content".into()));
                } else {
                    status = 201;
                    body = render_record(&ctx.base_url, &table, rec, Metadata::Minimal, None)?
                        .0
                        .into_bytes();
                    headers.push(("Preference-Applied".into(), "return-content".into()));
                    headers.push((
                        "Content-Type".into(),
                        Metadata::Minimal.content_type().into(),
                    ));
                }
            }
            headers.push(("ETag".into(), etag));
        }
        responses.push(BatchOperationResponse {
            status,
            status_text: status_text(status),
            headers,
            body,
            content_id: p.content_id.clone(),
        });
    }
    Ok(answer(responses))
}
