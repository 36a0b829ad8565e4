//! Prometheus metrics and health endpoints, served on an admin listener apart from the storage
//! ports so that scraping never competes with (or is authenticated like) storage traffic.
//!
//! `GET /metrics` (text exposition), `GET /healthz` (the process answers), `GET /readyz` (the
//! store answers a read).

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use http::{Response, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::handler::ServiceKind;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: &'static str,
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: &'static str,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

/// The metrics Lapis keeps. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    duration: Family<OperationLabels, Histogram>,
    bytes_in: Family<ServiceLabels, Counter>,
    bytes_out: Family<ServiceLabels, Counter>,
    stored: StoredGauges,
}

#[derive(Clone, Default)]
struct StoredGauges {
    containers: Gauge,
    blobs: Gauge,
    blob_bytes: Gauge,
    extents: Gauge,
    extent_bytes: Gauge,
    tables: Gauge,
    entities: Gauge,
    queues: Gauge,
    queue_messages: Gauge,
    gc_passes: Gauge,
    gc_extents_deleted: Gauge,
    gc_extents_compacted: Gauge,
    gc_bytes_reclaimed: Gauge,
    gc_blocks_expired: Gauge,
    gc_messages_expired: Gauge,
    gc_messages_discarded: Gauge,
}

impl StoredGauges {
    /// Each gauge with its metric name and help text, for registration.
    fn described(&self) -> [(&'static str, &'static str, &Gauge); 16] {
        [
            ("containers", "Blob containers stored", &self.containers),
            ("blobs", "Committed blobs stored", &self.blobs),
            ("blob_bytes", "Bytes of committed blobs", &self.blob_bytes),
            ("extents", "Extent files holding blob bytes", &self.extents),
            (
                "extent_bytes",
                "Bytes in extent files, live and garbage",
                &self.extent_bytes,
            ),
            ("tables", "Tables stored", &self.tables),
            ("entities", "Entities stored", &self.entities),
            ("queues", "Queues stored", &self.queues),
            (
                "queue_messages",
                "Messages in all queues (expired ones until purged)",
                &self.queue_messages,
            ),
            (
                "gc_passes",
                "Garbage-collection passes since start",
                &self.gc_passes,
            ),
            (
                "gc_extents_deleted",
                "Extents deleted by the collector since start",
                &self.gc_extents_deleted,
            ),
            (
                "gc_extents_compacted",
                "Extents compacted by the collector since start",
                &self.gc_extents_compacted,
            ),
            (
                "gc_bytes_reclaimed",
                "Bytes reclaimed by the collector since start",
                &self.gc_bytes_reclaimed,
            ),
            (
                "gc_blocks_expired",
                "Uncommitted blocks expired since start",
                &self.gc_blocks_expired,
            ),
            (
                "gc_messages_expired",
                "Expired queue messages removed since start",
                &self.gc_messages_expired,
            ),
            (
                "gc_messages_discarded",
                "Messages of deleted or cleared queues removed since start",
                &self.gc_messages_discarded,
            ),
        ]
    }
}

fn service_name(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Blob => "blob",
        ServiceKind::Table => "table",
        ServiceKind::Queue => "queue",
        ServiceKind::Web => "web",
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lapis");
        let requests = Family::<RequestLabels, Counter>::default();
        // 100 µs to ~26 s: storage operations span small reads to large uploads.
        let duration = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.0001, 2.0, 19,
            ))
        });
        let bytes_in = Family::<ServiceLabels, Counter>::default();
        let bytes_out = Family::<ServiceLabels, Counter>::default();
        let stored = StoredGauges::default();
        registry.register(
            "requests",
            "Requests answered, by service, operation and status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer, by service and operation",
            duration.clone(),
        );
        registry.register(
            "received_bytes",
            "Request body bytes received (Content-Length)",
            bytes_in.clone(),
        );
        registry.register(
            "sent_bytes",
            "Response body bytes sent (Content-Length)",
            bytes_out.clone(),
        );
        for (name, help, gauge) in stored.described() {
            registry.register(name, help, gauge.clone());
        }
        Metrics {
            registry: Arc::new(registry),
            requests,
            duration,
            bytes_in,
            bytes_out,
            stored,
        }
    }

    /// Records one answered request.
    pub fn observe(
        &self,
        kind: ServiceKind,
        operation: &'static str,
        status: u16,
        seconds: f64,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        let service = service_name(kind);
        self.requests
            .get_or_create(&RequestLabels {
                service,
                operation,
                status,
            })
            .inc();
        self.duration
            .get_or_create(&OperationLabels { service, operation })
            .observe(seconds);
        let labels = ServiceLabels { service };
        self.bytes_in.get_or_create(&labels).inc_by(bytes_in);
        self.bytes_out.get_or_create(&labels).inc_by(bytes_out);
    }

    fn refresh_stored(&self, store: &lapis_store::Store) {
        let s = &self.stored;
        let set = |g: &Gauge, v: u64| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        if let Ok(st) = store.stats() {
            for (g, v) in [
                (&s.containers, st.containers),
                (&s.blobs, st.blobs),
                (&s.blob_bytes, st.blob_bytes),
                (&s.extents, st.extents),
                (&s.extent_bytes, st.extent_bytes),
                (&s.tables, st.tables),
                (&s.entities, st.entities),
                (&s.queues, st.queues),
                (&s.queue_messages, st.queue_messages),
            ] {
                set(g, v);
            }
        }
        let gc = store.gc_totals();
        for (g, v) in [
            (&s.gc_passes, gc.passes),
            (&s.gc_extents_deleted, gc.extents_deleted),
            (&s.gc_extents_compacted, gc.extents_compacted),
            (&s.gc_bytes_reclaimed, gc.bytes_reclaimed),
            (&s.gc_blocks_expired, gc.blocks_expired),
            (&s.gc_messages_expired, gc.messages_expired),
            (&s.gc_messages_discarded, gc.messages_discarded),
        ] {
            set(g, v);
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

async fn metrics(State(state): State<AppState>) -> Response<Body> {
    let m = state.metrics.clone();
    let store = state.store.clone();
    let text = tokio::task::spawn_blocking(move || {
        m.refresh_stored(&store);
        m.render()
    })
    .await
    .unwrap_or_default();
    Response::builder()
        .header(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
        .body(Body::from(text))
        .unwrap_or_default()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response<Body> {
    let store = state.store.clone();
    let ok = tokio::task::spawn_blocking(move || store.ping().is_ok())
        .await
        .unwrap_or(false);
    let mut resp = Response::new(Body::from(if ok { "ready" } else { "not ready" }));
    *resp.status_mut() = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    resp
}

/// Serves the admin endpoints until `shutdown` completes.
pub async fn serve_admin(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
