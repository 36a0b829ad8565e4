//! The Table service: path shapes, routing, authorisation and the JSON error body. The life of a
//! request (request id, common headers, access log) is shared with the Blob service in
//! `handler.rs`.

mod batch;
mod entities;
mod path;
mod tables;

use std::net::SocketAddr;

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response};
use lapis_auth::{
    BearerGrant, Operation, Principal, RequestInfo, SasGrant, SasTarget, Service, StoredPolicy,
};
use lapis_odata::Metadata;
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::conn::Scheme;
use crate::error::{ApiError, ApiResult};
use crate::request::Query;
use crate::state::AppState;
use path::TablePath;

/// Table service operations, with Azure's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOp {
    CreateTable,
    QueryTables,
    DeleteTable,
    GetTableAcl,
    SetTableAcl,
    InsertEntity,
    GetEntity,
    QueryEntities,
    /// PUT on an entity with If-Match.
    UpdateEntity,
    /// PUT on an entity without If-Match.
    InsertOrReplaceEntity,
    /// MERGE (or PATCH, or POST with `X-HTTP-Method: MERGE`) with If-Match.
    MergeEntity,
    /// MERGE without If-Match.
    InsertOrMergeEntity,
    DeleteEntity,
    Batch,
    GetServiceProperties,
    SetServiceProperties,
}

impl TableOp {
    /// The operation as the SAS rules (and logs and metrics) name it.
    pub fn operation(self) -> Operation {
        match self {
            TableOp::CreateTable => Operation::CreateTable,
            TableOp::QueryTables => Operation::QueryTables,
            TableOp::DeleteTable => Operation::DeleteTable,
            TableOp::GetTableAcl => Operation::GetTableAcl,
            TableOp::SetTableAcl => Operation::SetTableAcl,
            TableOp::InsertEntity => Operation::InsertEntity,
            TableOp::GetEntity | TableOp::QueryEntities => Operation::QueryEntities,
            TableOp::UpdateEntity => Operation::UpdateEntity,
            TableOp::InsertOrReplaceEntity => Operation::InsertOrReplaceEntity,
            TableOp::MergeEntity => Operation::MergeEntity,
            TableOp::InsertOrMergeEntity => Operation::InsertOrMergeEntity,
            TableOp::DeleteEntity => Operation::DeleteEntity,
            TableOp::Batch => Operation::EntityGroupTransaction,
            TableOp::GetServiceProperties => Operation::GetTableServiceProperties,
            TableOp::SetServiceProperties => Operation::SetTableServiceProperties,
        }
    }
}

/// Everything a Table handler receives.
pub struct TableCtx {
    pub state: AppState,
    pub account: String,
    pub path: TablePath,
    pub query: Query,
    pub grant: Option<SasGrant>,
    /// A verified bearer token: a batch checks each sub-request against its roles.
    pub bearer: Option<BearerGrant>,
    /// `http://host/account` (`https://` over TLS), the base of `odata.metadata`, `odata.id`
    /// and `Location`.
    pub base_url: String,
}

fn not_implemented(what: &str) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::NotImplemented)
            .message(format!("Lapis does not implement {what} yet.")),
    )
}

fn route(
    method: &Method,
    path: &TablePath,
    query: &Query,
    x_http_method: Option<&str>,
    if_match: bool,
) -> ApiResult<TableOp> {
    let m = match (method.as_str(), x_http_method) {
        ("POST", Some(over)) => over.to_ascii_uppercase(),
        (m, _) => m.to_string(),
    };
    let comp = query.get("comp");
    let op = match (path, m.as_str(), comp) {
        (TablePath::Tables, "POST", _) => TableOp::CreateTable,
        (TablePath::Tables | TablePath::Table(_), "GET", _) => TableOp::QueryTables,
        (TablePath::Table(_), "DELETE", _) => TableOp::DeleteTable,
        (TablePath::Batch, "POST", _) => TableOp::Batch,
        (TablePath::Entities { keys: None, .. }, "GET" | "HEAD", Some("acl")) => {
            TableOp::GetTableAcl
        }
        (TablePath::Entities { keys: None, .. }, "PUT", Some("acl")) => TableOp::SetTableAcl,
        (TablePath::Entities { keys: None, .. }, "POST", None) => TableOp::InsertEntity,
        (TablePath::Entities { keys: None, .. }, "GET", None) => TableOp::QueryEntities,
        (TablePath::Entities { keys: Some(_), .. }, "GET", None) => TableOp::GetEntity,
        (TablePath::Entities { keys: Some(_), .. }, "PUT", None) if if_match => {
            TableOp::UpdateEntity
        }
        (TablePath::Entities { keys: Some(_), .. }, "PUT", None) => TableOp::InsertOrReplaceEntity,
        (TablePath::Entities { keys: Some(_), .. }, "MERGE" | "PATCH", None) if if_match => {
            TableOp::MergeEntity
        }
        (TablePath::Entities { keys: Some(_), .. }, "MERGE" | "PATCH", None) => {
            TableOp::InsertOrMergeEntity
        }
        (TablePath::Entities { keys: Some(_), .. }, "DELETE", None) => TableOp::DeleteEntity,
        (TablePath::Service, "GET", Some("properties")) => TableOp::GetServiceProperties,
        (TablePath::Service, "PUT", Some("properties")) => TableOp::SetServiceProperties,
        (TablePath::Service, _, Some("stats")) => {
            return Err(not_implemented("Table service stats (secondary endpoint)"))
        }
        (_, _, Some(other)) => {
            return Err(ApiError(
                AzureError::new(ErrorCode::InvalidQueryParameterValue)
                    .detail("QueryParameterName", "comp")
                    .detail("QueryParameterValue", other),
            ))
        }
        (TablePath::Service, _, None) => {
            return Err(ApiError(AzureError::new(ErrorCode::InvalidUri)))
        }
        _ => return Err(ApiError(AzureError::new(ErrorCode::UnsupportedHttpVerb))),
    };
    Ok(op)
}

/// Checks a SAS for one operation on a table (each sub-request of a batch).
pub fn sas_allows(grant: &SasGrant, table: &str, op: Operation) -> ApiResult<()> {
    let target = SasTarget {
        container: Some(table),
        blob: None,
    };
    grant.authorize(op, &target)?;
    Ok(())
}

/// The JSON metadata level of the answer: `$format` when the query has one, else `Accept`.
pub fn metadata_level<B>(query: &Query, req: &Request<B>) -> ApiResult<Metadata> {
    let asked = query
        .get("$format")
        .or_else(|| req.headers().get("accept").and_then(|v| v.to_str().ok()));
    Ok(Metadata::from_accept(asked)?)
}

/// A SAS with PartitionKey/RowKey ranges grants only the entities inside them.
pub fn sas_allows_entity(grant: Option<&SasGrant>, pk: &str, rk: &str) -> ApiResult<()> {
    match grant {
        Some(g) if !g.allows_entity(pk, rk) => Err(ApiError(
            AzureError::new(ErrorCode::AuthorizationFailure)
                .message("This request is not authorized to perform this operation."),
        )),
        _ => Ok(()),
    }
}

pub async fn dispatch(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Body>,
    now: OffsetDateTime,
    op_name: &mut &'static str,
    account_out: &mut String,
) -> ApiResult<Response<Body>> {
    let raw_path = req.uri().path().to_string();
    let (account, path) = path::parse(&raw_path)?;
    *account_out = account.clone();
    let query = Query::parse(req.uri().query());
    let x_http_method = req
        .headers()
        .get("x-http-method")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let if_match = req.headers().contains_key(http::header::IF_MATCH);
    let op = route(
        req.method(),
        &path,
        &query,
        x_http_method.as_deref(),
        if_match,
    )?;
    *op_name = op.operation().name();

    let (grant, bearer) = authenticate(state, &req, &account, &path, op, peer, now)?;
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:10002");
    let ctx = TableCtx {
        state: state.clone(),
        base_url: format!(
            "{}://{host}/{account}",
            Scheme::of(req.extensions()).as_str()
        ),
        account,
        path,
        query,
        grant,
        bearer,
    };
    match op {
        TableOp::CreateTable => tables::create(ctx, req).await,
        TableOp::QueryTables => tables::query(ctx, req).await,
        TableOp::DeleteTable => tables::delete(ctx).await,
        TableOp::GetTableAcl => tables::get_acl(ctx).await,
        TableOp::SetTableAcl => tables::set_acl(ctx, req).await,
        TableOp::InsertEntity => entities::insert(ctx, req).await,
        TableOp::GetEntity => entities::get(ctx, req).await,
        TableOp::QueryEntities => entities::query(ctx, req).await,
        TableOp::UpdateEntity | TableOp::InsertOrReplaceEntity => {
            entities::put(ctx, req, false).await
        }
        TableOp::MergeEntity | TableOp::InsertOrMergeEntity => entities::put(ctx, req, true).await,
        TableOp::DeleteEntity => entities::delete(ctx, req).await,
        TableOp::Batch => batch::execute(ctx, req).await,
        TableOp::GetServiceProperties => tables::get_service_properties(ctx).await,
        TableOp::SetServiceProperties => tables::set_service_properties(ctx, req).await,
    }
}

/// Authenticates and checks the operation against the SAS or token; returns the SAS grant or the
/// token, if any, for the checks the handlers (and a batch's sub-requests) make.
fn authenticate(
    state: &AppState,
    req: &Request<Body>,
    account: &str,
    path: &TablePath,
    op: TableOp,
    peer: SocketAddr,
    now: OffsetDateTime,
) -> ApiResult<(Option<SasGrant>, Option<BearerGrant>)> {
    let header_pairs: Vec<(&str, &str)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let info = RequestInfo {
        method: req.method().as_str(),
        raw_path: req.uri().path(),
        raw_query: req.uri().query(),
        headers: &header_pairs,
        account,
        client_ip: Some(peer.ip()),
        https: Scheme::of(req.extensions()).is_https(),
    };
    let store = state.store.clone();
    let acct = account.to_string();
    let policy = move |table: &str, id: &str| -> Option<StoredPolicy> {
        let ids = store.get_table_acl(&acct, table).ok()?;
        ids.into_iter().find(|p| p.id == id).map(|p| StoredPolicy {
            start: p.start,
            expiry: p.expiry,
            permission: p.permission,
        })
    };
    match lapis_auth::authenticate(&state.accounts, &info, Service::Table, now, &policy)? {
        Principal::SharedKey { .. } => Ok((None, None)),
        Principal::Bearer(grant) => {
            grant.authorize(op.operation())?;
            Ok((None, Some(grant)))
        }
        Principal::Anonymous => Err(ApiError(AzureError::new(
            ErrorCode::NoAuthenticationInformation,
        ))),
        Principal::Sas(grant) => {
            let target = SasTarget {
                container: path.table(),
                blob: None,
            };
            grant.authorize(op.operation(), &target)?;
            Ok((Some(grant), None))
        }
    }
}

/// The Table service's error body: OData JSON, with `x-ms-error-code` as well.
pub fn error_response(
    err: &AzureError,
    request_id: &str,
    now: OffsetDateTime,
    method: &Method,
) -> Response<Body> {
    let status =
        http::StatusCode::from_u16(err.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = if method == Method::HEAD {
        String::new()
    } else {
        err.to_json(request_id, now)
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let hs = resp.headers_mut();
    hs.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(err.code.as_str()) {
        hs.insert(lapis_wire::headers::X_MS_ERROR_CODE, v);
    }
    for (name, value) in &err.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            hs.insert(n, v);
        }
    }
    resp
}
