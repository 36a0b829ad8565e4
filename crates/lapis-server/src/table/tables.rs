//! Table operations: Create Table, Query Tables, Delete Table, Get/Set Table ACL.

use axum::body::Body;
use http::{Request, Response, StatusCode};
use lapis_odata::{
    parse_filter, parse_select, parse_table_name, parse_top, render_table, render_table_list,
    EdmValue,
};
use lapis_wire::names::validate_table_name;
use lapis_wire::xml::ServiceProperties;
use lapis_wire::{AzureError, ErrorCode};

use super::entities::{prefers_no_content, run};
use super::path::TablePath;
use super::{metadata_level, TableCtx};
use crate::common::read_small_body;
use crate::common::{acl, Reply};
use crate::error::{ApiError, ApiResult};

const MAX_TABLE_BODY: usize = 64 * 1024;

pub async fn create(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let level = metadata_level(&ctx.query, &req)?;
    let no_content = prefers_no_content(&req);
    let body = read_small_body(req, MAX_TABLE_BODY).await?;
    let name = parse_table_name(&body)?;
    validate_table_name(&name)?;
    let account = ctx.account.clone();
    let n = name.clone();
    let info = run(&ctx, move |s| s.create_table(&account, &n)).await?;
    let location = format!("{}/Tables('{}')", ctx.base_url, info.name);
    let reply = if no_content {
        Reply::new(StatusCode::NO_CONTENT).header("preference-applied", "return-no-content")
    } else {
        Reply::new(StatusCode::CREATED)
            .header("preference-applied", "return-content")
            .json(
                render_table(&ctx.base_url, &info.name, level),
                level.content_type(),
            )
    };
    Ok(reply
        .header("location", &location)
        .header("dataserviceid", &location)
        .header("dataserviceversion", "3.0;")
        .finish())
}

pub async fn query(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let level = metadata_level(&ctx.query, &req)?;
    let account = ctx.account.clone();
    if let TablePath::Table(name) = &ctx.path {
        let n = name.clone();
        let info = run(&ctx, move |s| s.get_table(&account, &n))
            .await
            .map_err(as_resource_not_found)?;
        return Ok(Reply::new(StatusCode::OK)
            .json(
                render_table(&ctx.base_url, &info.name, level),
                level.content_type(),
            )
            .finish());
    }
    let limit = match ctx.query.get("$top") {
        Some(t) => parse_top(t)?,
        None => 1000,
    };
    let filter = ctx.query.get("$filter").map(parse_filter).transpose()?;
    let select = ctx.query.get("$select").map(parse_select).transpose()?;
    let start = ctx.query.get("NextTableName").map(str::to_string);
    let (tables, next) = run(&ctx, move |s| {
        let matches = |name: &str| match &filter {
            None => true,
            Some(f) => {
                let props = vec![("TableName".to_string(), EdmValue::String(name.to_string()))];
                f.matches("", "", time::OffsetDateTime::UNIX_EPOCH, &props)
            }
        };
        s.list_tables(&account, start.as_deref(), limit, &matches)
    })
    .await?;
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    Ok(Reply::new(StatusCode::OK)
        .header_opt("x-ms-continuation-nexttablename", next)
        .json(
            render_table_list(&ctx.base_url, &names, level, select.as_deref()),
            level.content_type(),
        )
        .finish())
}

/// Azure names a missing table in `Tables('x')` addresses with the generic code; entity
/// operations on a missing table say TableNotFound.
fn as_resource_not_found(e: ApiError) -> ApiError {
    if e.0.code == ErrorCode::TableNotFound {
        ApiError(AzureError::new(ErrorCode::ResourceNotFound))
    } else {
        e
    }
}

pub async fn delete(ctx: TableCtx) -> ApiResult<Response<Body>> {
    let name = ctx.path.table().unwrap_or_default().to_string();
    let account = ctx.account.clone();
    run(&ctx, move |s| s.delete_table(&account, &name))
        .await
        .map_err(as_resource_not_found)?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

pub async fn get_acl(ctx: TableCtx) -> ApiResult<Response<Body>> {
    let name = ctx.path.table().unwrap_or_default().to_string();
    let account = ctx.account.clone();
    let ids = run(&ctx, move |s| s.get_table_acl(&account, &name)).await?;

    Ok(Reply::new(StatusCode::OK).xml(acl::render(ids)).finish())
}

pub async fn set_acl(ctx: TableCtx, req: Request<Body>) -> ApiResult<Response<Body>> {
    let body = read_small_body(req, MAX_TABLE_BODY).await?;
    let ids = acl::parse(&body)?;
    let name = ctx.path.table().unwrap_or_default().to_string();
    let account = ctx.account.clone();
    run(&ctx, move |s| s.set_table_acl(&account, &name, &ids)).await?;
    Ok(Reply::new(StatusCode::NO_CONTENT).finish())
}

/// The Table service's properties live beside the Blob service's, under their own key.
fn service_properties_key(account: &str) -> String {
    // Account names are lowercase letters and digits, so the colon cannot collide.
    format!("table:{account}")
}

pub async fn get_service_properties(ctx: TableCtx) -> ApiResult<Response<Body>> {
    let props = ctx
        .state
        .service_properties(&service_properties_key(&ctx.account))
        .await?;
    Ok(Reply::new(StatusCode::OK).xml(props.render()).finish())
}

pub async fn set_service_properties(
    ctx: TableCtx,
    req: Request<Body>,
) -> ApiResult<Response<Body>> {
    let body = read_small_body(req, MAX_TABLE_BODY).await?;
    let newer = ServiceProperties::parse(&body)?;
    let key = service_properties_key(&ctx.account);
    let mut merged = (*ctx.state.service_properties(&key).await?).clone();
    merged.merge_from(newer);
    let xml = merged.render();
    let k = key.clone();
    run(&ctx, move |s| s.set_service_properties(&k, &xml)).await?;
    ctx.state.forget_service_properties(&key);
    Ok(Reply::new(StatusCode::ACCEPTED).finish())
}
