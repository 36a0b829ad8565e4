//! CORS as the Blob service does it: rules come from the account's service properties; a
//! preflight `OPTIONS` needs no authentication and fails with 403 `CorsPreflightFailure` when no
//! rule matches; an actual request with `Origin` gets the allow headers of the first matching rule.

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use lapis_wire::{AzureError, ErrorCode};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn requested_headers(headers: &HeaderMap) -> Vec<String> {
    header(headers, "access-control-request-headers")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

pub async fn preflight(
    state: &AppState,
    account: &str,
    headers: &HeaderMap,
) -> ApiResult<Response<Body>> {
    let Some(origin) = header(headers, "origin") else {
        return Err(ApiError(
            AzureError::new(ErrorCode::CorsPreflightFailure)
                .status(400)
                .message("Missing required CORS header Origin."),
        ));
    };
    let Some(method) = header(headers, "access-control-request-method") else {
        return Err(ApiError(
            AzureError::new(ErrorCode::CorsPreflightFailure)
                .status(400)
                .message("Missing required CORS header Access-Control-Request-Method."),
        ));
    };
    let wanted = requested_headers(headers);
    let wanted_refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let props = state.service_properties(account).await?;
    let rule = props
        .cors
        .iter()
        .flatten()
        .find(|r| r.matches(origin, method, &wanted_refs));
    let Some(rule) = rule else {
        return Err(ApiError(
            AzureError::new(ErrorCode::CorsPreflightFailure)
                .message("CORS not enabled or no matching rule found for this request."),
        ));
    };
    let allow_origin = if rule.allowed_origins.trim() == "*" {
        "*"
    } else {
        origin
    };
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header("access-control-allow-origin", allow_origin)
        .header("access-control-allow-methods", method)
        .header(
            "access-control-max-age",
            rule.max_age_in_seconds.to_string(),
        );
    if !wanted.is_empty() {
        resp = resp.header("access-control-allow-headers", wanted.join(","));
    }
    if allow_origin != "*" {
        resp = resp
            .header("access-control-allow-credentials", "true")
            .header("vary", "Origin");
    }
    resp.body(Body::empty())
        .map_err(|_| ApiError(AzureError::new(ErrorCode::InternalError)))
}

/// Adds the CORS response headers to an actual (non-preflight) request's answer, as the REST
/// reference's "Understanding how the Vary header is set" describes: a rule allowing every
/// origin answers `*`; a rule naming the origin echoes it with credentials; and a GET or HEAD
/// answer whose headers depend on the origin (a named origin matched, or no rule matched while
/// CORS is on) says `Vary: Origin`, so that caches keep answers per origin.
pub async fn decorate_actual_response(
    state: &AppState,
    account: &str,
    origin: Option<&HeaderValue>,
    method: &Method,
    resp: &mut Response<Body>,
) {
    let get_or_head = method == Method::GET || method == Method::HEAD;
    if origin.is_none() && !get_or_head {
        // Nothing applies: no origin to allow, no answer that varies by it.
        return;
    }
    let Ok(props) = state.service_properties(account).await else {
        return;
    };
    let Some(rules) = props.cors.as_ref().filter(|rules| !rules.is_empty()) else {
        return;
    };
    let origin_str = origin.and_then(|o| o.to_str().ok());
    let rule = rules.iter().find(|r| match origin_str {
        Some(o) => r.matches(o, method.as_str(), &[]),
        // Without an Origin only a rule allowing every origin applies.
        None => r.allows_all_origins() && r.allows_method(method.as_str()),
    });
    let hs = resp.headers_mut();
    match (rule, origin) {
        (Some(rule), _) if rule.allows_all_origins() => {
            hs.insert("access-control-allow-origin", HeaderValue::from_static("*"));
            expose(hs, &rule.exposed_headers);
        }
        (Some(rule), Some(origin)) => {
            hs.insert("access-control-allow-origin", origin.clone());
            hs.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
            expose(hs, &rule.exposed_headers);
            if get_or_head {
                hs.insert("vary", HeaderValue::from_static("Origin"));
            }
        }
        _ if get_or_head => {
            hs.insert("vary", HeaderValue::from_static("Origin"));
        }
        _ => {}
    }
}

fn expose(hs: &mut HeaderMap, exposed: &str) {
    if exposed.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(exposed) {
        hs.insert("access-control-expose-headers", v);
    }
}
