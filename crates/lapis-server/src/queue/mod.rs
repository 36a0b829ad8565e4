//! The Queue service: path shapes, routing and authorisation. The life of a request (request id,
//! common headers, CORS, access log, the XML error body) is shared with the Blob service in
//! `handler.rs`.

mod messages;
mod params;
mod queues;

use std::net::SocketAddr;

use axum::body::Body;
use http::{Method, Request, Response};
use lapis_auth::{Operation, Principal, RequestInfo, SasTarget, Service, StoredPolicy};
use lapis_wire::{AzureError, ErrorCode};
use time::OffsetDateTime;

use crate::conn::Scheme;
use crate::error::{ApiError, ApiResult};
use crate::request::Query;
use crate::state::AppState;

/// What a Queue service path names: `/account`, `/account/queue`, `/account/queue/messages` or
/// `/account/queue/messages/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueuePath {
    Service,
    Queue(String),
    Messages(String),
    Message(String, String),
}

impl QueuePath {
    fn queue(&self) -> Option<&str> {
        match self {
            QueuePath::Service => None,
            QueuePath::Queue(q) | QueuePath::Messages(q) | QueuePath::Message(q, _) => Some(q),
        }
    }
}

/// Splits a path into the account and what it names; percent-decoded segments.
fn parse_path(raw: &str) -> ApiResult<(String, QueuePath)> {
    let decode = |s: &str| {
        lapis_wire::percent::decode_lossy(s, lapis_wire::percent::Plus::Literal).into_owned()
    };
    let trimmed = raw.strip_prefix('/').unwrap_or(raw);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<String> = trimmed.split('/').map(decode).collect();
    let invalid_uri = || ApiError(AzureError::new(ErrorCode::InvalidUri));
    let account = match segments.first() {
        Some(a) if !a.is_empty() => a.clone(),
        _ => return Err(invalid_uri()),
    };
    let path = match &segments[1..] {
        [] => QueuePath::Service,
        [queue] => QueuePath::Queue(queue.clone()),
        [queue, messages] if messages == "messages" => QueuePath::Messages(queue.clone()),
        [queue, messages, id] if messages == "messages" && !id.is_empty() => {
            QueuePath::Message(queue.clone(), id.clone())
        }
        _ => return Err(invalid_uri()),
    };
    if let Some(queue) = path.queue() {
        lapis_wire::names::validate_queue_name(queue)?;
    }
    Ok((account, path))
}

/// Queue service operations, with Azure's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOp {
    GetServiceProperties,
    SetServiceProperties,
    GetServiceStats,
    ListQueues,
    CreateQueue,
    DeleteQueue,
    GetMetadata,
    SetMetadata,
    GetAcl,
    SetAcl,
    PutMessage,
    GetMessages,
    PeekMessages,
    DeleteMessage,
    UpdateMessage,
    ClearMessages,
    /// A CORS preflight `OPTIONS`: answered before authentication.
    Preflight,
}

impl QueueOp {
    /// The operation as the SAS rules (and logs and metrics) name it.
    fn operation(self) -> Option<Operation> {
        Some(match self {
            QueueOp::GetServiceProperties => Operation::GetQueueServiceProperties,
            QueueOp::SetServiceProperties => Operation::SetQueueServiceProperties,
            QueueOp::GetServiceStats => Operation::GetQueueServiceStats,
            QueueOp::ListQueues => Operation::ListQueues,
            QueueOp::CreateQueue => Operation::CreateQueue,
            QueueOp::DeleteQueue => Operation::DeleteQueue,
            QueueOp::GetMetadata => Operation::GetQueueMetadata,
            QueueOp::SetMetadata => Operation::SetQueueMetadata,
            QueueOp::GetAcl => Operation::GetQueueAcl,
            QueueOp::SetAcl => Operation::SetQueueAcl,
            QueueOp::PutMessage => Operation::PutMessage,
            QueueOp::GetMessages => Operation::GetMessages,
            QueueOp::PeekMessages => Operation::PeekMessages,
            QueueOp::DeleteMessage => Operation::DeleteMessage,
            QueueOp::UpdateMessage => Operation::UpdateMessage,
            QueueOp::ClearMessages => Operation::ClearMessages,
            QueueOp::Preflight => return None,
        })
    }

    fn name(self) -> &'static str {
        self.operation().map_or("Preflight", Operation::name)
    }
}

fn unsupported_verb() -> ApiError {
    ApiError(AzureError::new(ErrorCode::UnsupportedHttpVerb))
}

fn invalid_comp(comp: &str) -> ApiError {
    ApiError(
        AzureError::new(ErrorCode::InvalidQueryParameterValue)
            .detail("QueryParameterName", "comp")
            .detail("QueryParameterValue", comp)
            .detail("Reason", ""),
    )
}

/// The operation a method, path and query name.
fn route(method: &Method, path: &QueuePath, query: &Query) -> ApiResult<QueueOp> {
    if method == Method::OPTIONS {
        return Ok(QueueOp::Preflight);
    }
    let comp = query.get("comp");
    let restype = query.get("restype");
    let m = method.as_str();
    Ok(match path {
        QueuePath::Service => match (restype, comp) {
            (Some("service"), Some("properties")) => match m {
                "GET" => QueueOp::GetServiceProperties,
                "PUT" => QueueOp::SetServiceProperties,
                _ => return Err(unsupported_verb()),
            },
            (Some("service"), Some("stats")) if m == "GET" => QueueOp::GetServiceStats,
            (_, Some("list")) if m == "GET" => QueueOp::ListQueues,
            (_, Some(other)) if !matches!(other, "properties" | "stats" | "list") => {
                return Err(invalid_comp(other))
            }
            (_, Some(_)) => return Err(unsupported_verb()),
            (_, None) => return Err(ApiError(AzureError::new(ErrorCode::InvalidUri))),
        },
        QueuePath::Queue(_) => match (m, comp) {
            ("PUT", None) => QueueOp::CreateQueue,
            ("DELETE", None) => QueueOp::DeleteQueue,
            ("GET" | "HEAD", Some("metadata")) => QueueOp::GetMetadata,
            ("PUT", Some("metadata")) => QueueOp::SetMetadata,
            ("GET" | "HEAD", Some("acl")) => QueueOp::GetAcl,
            ("PUT", Some("acl")) => QueueOp::SetAcl,
            (_, Some(other)) if !matches!(other, "metadata" | "acl") => {
                return Err(invalid_comp(other))
            }
            _ => return Err(unsupported_verb()),
        },
        QueuePath::Messages(_) => match m {
            "POST" => QueueOp::PutMessage,
            "GET" if params::peek_only(query)? => QueueOp::PeekMessages,
            "GET" => QueueOp::GetMessages,
            "DELETE" => QueueOp::ClearMessages,
            _ => return Err(unsupported_verb()),
        },
        QueuePath::Message(..) => match m {
            "DELETE" => QueueOp::DeleteMessage,
            "PUT" => QueueOp::UpdateMessage,
            _ => return Err(unsupported_verb()),
        },
    })
}

/// Everything a Queue handler receives.
pub struct QueueCtx {
    pub state: AppState,
    pub account: String,
    pub path: QueuePath,
    pub query: Query,
    pub now: OffsetDateTime,
    /// `http://host/account` (`https://` over TLS), the ServiceEndpoint of List Queues.
    pub service_endpoint: String,
}

impl QueueCtx {
    /// The queue the path names (every operation below the service level has one).
    fn queue(&self) -> String {
        self.path.queue().unwrap_or_default().to_owned()
    }
}

/// The key of the account's Queue service properties: beside the Blob service's, under its own
/// prefix (account names are lowercase letters and digits, so the colon cannot collide).
pub fn service_properties_key(account: &str) -> String {
    format!("queue:{account}")
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
    let (account, path) = parse_path(&raw_path)?;
    *account_out = account.clone();
    let query = Query::parse(req.uri().query());
    let op = route(req.method(), &path, &query)?;
    *op_name = op.name();
    if op == QueueOp::Preflight {
        return crate::cors::preflight(state, &service_properties_key(&account), req.headers())
            .await;
    }
    authenticate(state, &req, &account, &path, op, peer, now)?;
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:10001");
    let ctx = QueueCtx {
        state: state.clone(),
        service_endpoint: format!(
            "{}://{host}/{account}",
            Scheme::of(req.extensions()).as_str()
        ),
        account,
        path,
        query,
        now,
    };
    match op {
        QueueOp::GetServiceProperties => queues::get_service_properties(ctx).await,
        QueueOp::SetServiceProperties => queues::set_service_properties(ctx, req).await,
        QueueOp::GetServiceStats => Err(ApiError(
            AzureError::new(ErrorCode::NotImplemented).message(
                "Lapis does not implement Get Queue Service Stats (secondary endpoint) yet.",
            ),
        )),
        QueueOp::ListQueues => queues::list(ctx).await,
        QueueOp::CreateQueue => queues::create(ctx, req).await,
        QueueOp::DeleteQueue => queues::delete(ctx).await,
        QueueOp::GetMetadata => queues::get_metadata(ctx).await,
        QueueOp::SetMetadata => queues::set_metadata(ctx, req).await,
        QueueOp::GetAcl => queues::get_acl(ctx).await,
        QueueOp::SetAcl => queues::set_acl(ctx, req).await,
        QueueOp::PutMessage => messages::put(ctx, req).await,
        QueueOp::GetMessages => messages::get(ctx).await,
        QueueOp::PeekMessages => messages::peek(ctx).await,
        QueueOp::DeleteMessage => messages::delete(ctx).await,
        QueueOp::UpdateMessage => messages::update(ctx, req).await,
        QueueOp::ClearMessages => messages::clear(ctx).await,
        QueueOp::Preflight => unreachable!("answered above"),
    }
}

/// Authenticates (Shared Key, Shared Key Lite or SAS; queues have no anonymous access) and checks
/// a SAS's permissions for the operation.
fn authenticate(
    state: &AppState,
    req: &Request<Body>,
    account: &str,
    path: &QueuePath,
    op: QueueOp,
    peer: SocketAddr,
    now: OffsetDateTime,
) -> ApiResult<()> {
    let Some(operation) = op.operation() else {
        return Ok(());
    };
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
    let policy = move |queue: &str, id: &str| -> Option<StoredPolicy> {
        let ids = store.get_queue_acl(&acct, queue).ok()?;
        ids.into_iter().find(|p| p.id == id).map(|p| StoredPolicy {
            start: p.start,
            expiry: p.expiry,
            permission: p.permission,
        })
    };
    match lapis_auth::authenticate(&state.accounts, &info, Service::Queue, now, &policy)? {
        Principal::SharedKey { .. } => Ok(()),
        Principal::Bearer(grant) => Ok(grant.authorize(operation)?),
        Principal::Anonymous => Err(ApiError(AzureError::new(
            ErrorCode::NoAuthenticationInformation,
        ))),
        Principal::Sas(grant) => {
            let target = SasTarget {
                container: path.queue(),
                blob: None,
            };
            grant.authorize(operation, &target)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: &str, path: &str, query: &str) -> Result<QueueOp, ErrorCode> {
        let (_, p) = parse_path(path).map_err(|e| e.0.code)?;
        let q = Query::parse(Some(query));
        route(&method.parse().unwrap(), &p, &q).map_err(|e| e.0.code)
    }

    #[test]
    fn every_operation_has_its_route() {
        use QueueOp::*;
        let a = "/devstoreaccount1";
        for (method, path, query, want) in [
            (
                "GET",
                a,
                "restype=service&comp=properties",
                GetServiceProperties,
            ),
            (
                "PUT",
                "/devstoreaccount1/",
                "restype=service&comp=properties",
                SetServiceProperties,
            ),
            ("GET", a, "restype=service&comp=stats", GetServiceStats),
            ("GET", a, "comp=list&prefix=q", ListQueues),
            ("PUT", "/devstoreaccount1/orders", "", CreateQueue),
            ("DELETE", "/devstoreaccount1/orders", "", DeleteQueue),
            (
                "GET",
                "/devstoreaccount1/orders",
                "comp=metadata",
                GetMetadata,
            ),
            (
                "HEAD",
                "/devstoreaccount1/orders",
                "comp=metadata",
                GetMetadata,
            ),
            (
                "PUT",
                "/devstoreaccount1/orders",
                "comp=metadata",
                SetMetadata,
            ),
            ("GET", "/devstoreaccount1/orders", "comp=acl", GetAcl),
            ("PUT", "/devstoreaccount1/orders", "comp=acl", SetAcl),
            (
                "POST",
                "/devstoreaccount1/orders/messages",
                "messagettl=-1",
                PutMessage,
            ),
            (
                "GET",
                "/devstoreaccount1/orders/messages",
                "numofmessages=32",
                GetMessages,
            ),
            (
                "GET",
                "/devstoreaccount1/orders/messages",
                "peekonly=true",
                PeekMessages,
            ),
            (
                "GET",
                "/devstoreaccount1/orders/messages",
                "peekonly=false",
                GetMessages,
            ),
            (
                "DELETE",
                "/devstoreaccount1/orders/messages",
                "",
                ClearMessages,
            ),
            (
                "DELETE",
                "/devstoreaccount1/orders/messages/abc",
                "popreceipt=x",
                DeleteMessage,
            ),
            (
                "PUT",
                "/devstoreaccount1/orders/messages/abc",
                "popreceipt=x",
                UpdateMessage,
            ),
            (
                "OPTIONS",
                "/devstoreaccount1/orders/messages",
                "",
                Preflight,
            ),
        ] {
            assert_eq!(
                routed(method, path, query),
                Ok(want),
                "{method} {path}?{query}"
            );
        }
    }

    #[test]
    fn what_names_no_operation_gets_azures_error() {
        use ErrorCode::*;
        for (method, path, query, want) in [
            ("GET", "/devstoreaccount1/orders", "", UnsupportedHttpVerb),
            ("POST", "/devstoreaccount1/orders", "", UnsupportedHttpVerb),
            (
                "GET",
                "/devstoreaccount1/orders",
                "comp=bogus",
                InvalidQueryParameterValue,
            ),
            (
                "PATCH",
                "/devstoreaccount1/orders/messages",
                "",
                UnsupportedHttpVerb,
            ),
            (
                "GET",
                "/devstoreaccount1/orders/messages/id",
                "",
                UnsupportedHttpVerb,
            ),
            ("GET", "/devstoreaccount1/orders/other", "", InvalidUri),
            (
                "GET",
                "/devstoreaccount1/orders/messages/id/x",
                "",
                InvalidUri,
            ),
            ("PUT", "/devstoreaccount1/Orders", "", InvalidResourceName),
            ("PUT", "/devstoreaccount1/ab", "", OutOfRangeInput),
            ("GET", "/", "comp=list", InvalidUri),
        ] {
            assert_eq!(
                routed(method, path, query),
                Err(want),
                "{method} {path}?{query}"
            );
        }
    }
}
