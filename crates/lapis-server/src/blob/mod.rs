//! Blob service operations, one file per family, dispatched by one `match`.

mod any_blob;
mod append_blob;
mod batch;
mod batch_wire;
mod block_blob;
pub mod body;
mod conditions;
mod container;
mod copy;
mod copy_source;
mod cpk;
mod lease;
mod listing;
mod page_blob;
mod refused;
mod remote_source;
mod service;
mod snapshot;
mod tag_filter;
mod tags;
mod tier;
mod undelete;
mod versions;

use axum::body::Body;
use http::{Request, Response};
use lapis_store::Store;

use crate::error::ApiResult;
use crate::handler::Ctx;
use crate::request::Headers;
use crate::router::{Level, Op};
use lapis_wire::{AzureError, ErrorCode};

pub use crate::common::{on_store, point_read, queued, Reply};

pub async fn run(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    check(&ctx, &req)?;
    match ctx.op {
        // Each sub-request comes back through `run_sub_request`.
        Op::SubmitBatch => Box::pin(batch::submit(ctx, req)).await,
        _ => serve(ctx, req).await,
    }
}

/// A Blob Batch sub-request: the same checks and operation code as a request of its own.
pub(crate) async fn run_sub_request(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    check(&ctx, &req)?;
    serve(ctx, req).await
}

/// What no operation may act on, refused before any runs.
fn check(ctx: &Ctx, req: &Request<Body>) -> ApiResult<()> {
    let level = ctx.target.level();
    if level == Level::Blob {
        versions::check(ctx.op, &ctx.query)?;
    }
    refused::check(&Headers::of(req), &ctx.query, ctx.state.remote_copy)?;
    // A SAS's `ses` names the scope its writes are encrypted with; none exists but the
    // account's own key.
    let writes_content = matches!(
        ctx.op,
        Op::PutBlob
            | Op::PutBlock
            | Op::PutBlockList
            | Op::SetBlobMetadata
            | Op::CreatePageBlob
            | Op::PutPage
            | Op::CreateAppendBlob
            | Op::AppendBlock
            | Op::AppendBlockFromUrl
            | Op::PutPageFromUrl
    );
    if writes_content && ctx.granted.encryption_scope.is_some() {
        return Err(AzureError::new(ErrorCode::EncryptionScopeNotAvailable).into());
    }
    Ok(())
}

/// The operations added after the block-blob core are boxed: their futures are large (copies,
/// page and append writes), and an unboxed arm makes every request's future as large, to be
/// moved by value on each request (callgrind: an 11 KB memcpy per request, Table's too).
async fn serve(ctx: Ctx, req: Request<Body>) -> ApiResult<Response<Body>> {
    match ctx.op {
        Op::ListContainers => service::list_containers(ctx).await,
        Op::GetServiceProperties => service::get_service_properties(ctx, req).await,
        Op::SetServiceProperties => service::set_service_properties(ctx, req).await,
        Op::GetUserDelegationKey => service::get_user_delegation_key(ctx, req).await,
        Op::GetAccountInfo => service::get_account_info(ctx).await,
        // Answered before authentication, in the handler.
        Op::Preflight => Ok(Reply::new(http::StatusCode::OK).finish()),
        Op::CreateContainer => container::create(ctx, req).await,
        Op::GetContainerProperties | Op::GetContainerMetadata => {
            container::get_properties(ctx, req).await
        }
        Op::SetContainerMetadata => container::set_metadata(ctx, req).await,
        Op::GetContainerAcl => container::get_acl(ctx, req).await,
        Op::SetContainerAcl => container::set_acl(ctx, req).await,
        Op::DeleteContainer => container::delete(ctx, req).await,
        Op::RestoreContainer => Box::pin(undelete::restore_container(ctx, req)).await,
        Op::ListBlobs => listing::list_blobs(ctx).await,
        Op::PutBlob => block_blob::put_blob(ctx, req).await,
        Op::PutBlock => block_blob::put_block(ctx, req).await,
        Op::PutBlockList => block_blob::put_block_list(ctx, req).await,
        Op::GetBlockList => block_blob::get_block_list(ctx, req).await,
        Op::GetBlob => any_blob::get_blob(ctx, req).await,
        Op::GetBlobProperties => any_blob::get_properties(ctx, req).await,
        Op::GetBlobMetadata => any_blob::get_metadata(ctx, req).await,
        Op::SetBlobProperties => any_blob::set_properties(ctx, req).await,
        Op::SetBlobMetadata => any_blob::set_metadata(ctx, req).await,
        Op::DeleteBlob => any_blob::delete(ctx, req).await,
        Op::UndeleteBlob => Box::pin(undelete::undelete_blob(ctx, req)).await,
        Op::PermanentDeleteBlob => Box::pin(undelete::delete_permanently(ctx, req)).await,
        Op::LeaseBlob => Box::pin(lease::lease_blob(ctx, req)).await,
        Op::LeaseContainer => Box::pin(lease::lease_container(ctx, req)).await,
        Op::SnapshotBlob => Box::pin(snapshot::snapshot_blob(ctx, req)).await,
        Op::CopyBlob => Box::pin(copy::copy_blob(ctx, req)).await,
        Op::CopyBlobFromUrl => Box::pin(copy::copy_from_url(ctx, req)).await,
        Op::PutBlobFromUrl => Box::pin(copy::put_blob_from_url(ctx, req)).await,
        Op::PutBlockFromUrl => Box::pin(copy::put_block_from_url(ctx, req)).await,
        Op::AbortCopyBlob => Box::pin(copy::abort_copy(ctx, req)).await,
        Op::SetBlobTier => Box::pin(tier::set_blob_tier(ctx, req)).await,
        Op::CreatePageBlob => Box::pin(page_blob::create(ctx, req)).await,
        Op::PutPage => Box::pin(page_blob::put_page(ctx, req)).await,
        Op::GetPageRanges => Box::pin(page_blob::get_page_ranges(ctx, req)).await,
        Op::SetPageBlobProperties => Box::pin(page_blob::set_properties(ctx, req)).await,
        Op::CreateAppendBlob => Box::pin(append_blob::create(ctx, req)).await,
        Op::AppendBlock => Box::pin(append_blob::append_block(ctx, req)).await,
        Op::SealBlob => Box::pin(append_blob::seal(ctx, req)).await,
        Op::AppendBlockFromUrl => Box::pin(append_blob::append_block_from_url(ctx, req)).await,
        Op::PutPageFromUrl => Box::pin(page_blob::put_page_from_url(ctx, req)).await,
        Op::GetBlobTags => Box::pin(tags::get_blob_tags(ctx, req)).await,
        Op::SetBlobTags => Box::pin(tags::set_blob_tags(ctx, req)).await,
        Op::FindBlobsByTags => Box::pin(tags::find_blobs_by_tags(ctx)).await,
        // Routed, not served yet: each gets its own arm as it lands.
        other => Err(AzureError::new(ErrorCode::NotImplemented)
            .message(format!("Lapis does not implement {} yet.", other.name()))
            .into()),
    }
}

/// Runs a synchronous engine call off the async workers.
pub async fn blocking<T, F>(ctx: &Ctx, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> lapis_store::Result<T> + Send + 'static,
{
    on_store(&ctx.state.store, f).await
}

/// `point_read` on the request's store.
pub fn read_now<T>(ctx: &Ctx, f: impl FnOnce(&Store) -> lapis_store::Result<T>) -> ApiResult<T> {
    point_read(&ctx.state.store, f)
}

impl Ctx {
    pub fn account(&self) -> String {
        self.target.account.clone()
    }
    /// The container the path names; routing guarantees it for container and blob operations.
    pub fn container(&self) -> String {
        self.target.container.clone().unwrap_or_default()
    }
    pub fn blob(&self) -> String {
        self.target.blob.clone().unwrap_or_default()
    }
    /// `container()` borrowed, for calls that do not leave this task.
    pub fn container_name(&self) -> &str {
        self.target.container.as_deref().unwrap_or_default()
    }
    /// `blob()` borrowed, for calls that do not leave this task.
    pub fn blob_name(&self) -> &str {
        self.target.blob.as_deref().unwrap_or_default()
    }
}
