//! Data types of the Queue service exchanged between the engine and its callers.

use time::OffsetDateTime;

/// A queue as Get Queue Metadata and List Queues describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueProps {
    pub name: String,
    /// As given at creation or by the last Set Queue Metadata (names' case kept, order kept).
    pub metadata: Vec<(String, String)>,
    /// Messages stored in the queue, kept up to date by every write (reading it costs one row).
    /// Like Azure's, it is never lower than the number of live messages but may be higher:
    /// messages that expired still count until the collector purges them (within one
    /// `StoreOptions::gc_interval`).
    pub approximate_message_count: u64,
}

/// One page of List Queues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueuePage {
    pub items: Vec<QueueProps>,
    /// The name of the first queue of the next page, when there is one.
    pub next_marker: Option<String>,
}

/// What Create Queue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueCreated {
    Created,
    /// The queue already existed with the same metadata (Azure answers 204 No Content).
    Existed,
}

/// A message as Put, Get and Peek Messages return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// A lowercase hyphenated UUID.
    pub id: String,
    pub inserted: OffsetDateTime,
    /// None: the message never expires (`messagettl=-1`).
    pub expires: Option<OffsetDateTime>,
    pub next_visible: OffsetDateTime,
    pub dequeue_count: u64,
    /// Empty for peeked messages.
    pub pop_receipt: String,
    pub text: String,
}

/// What Update Message returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUpdated {
    pub pop_receipt: String,
    pub next_visible: OffsetDateTime,
}
