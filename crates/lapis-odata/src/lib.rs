//! The Azure Table service protocol, kept free of I/O: EDM-typed property values, OData JSON
//! request parsing and response rendering at the three metadata levels, a compact binary
//! encoding of properties for storage, the `$filter` language (parser, evaluator and the key
//! ranges a store can seek on), `$select`/`$top`, and the `$batch` multipart format.
//!
//! Every error is an [`AzureError`](lapis_wire::AzureError) carrying Azure's Table error code.

pub mod batch;
pub mod codec;
mod datetime;
pub mod filter;
mod filter_lex;
pub mod json_in;
pub mod json_out;
pub mod model;
pub mod query_options;

pub use batch::{
    parse_batch, render_batch_response, BatchOperation, BatchOperationResponse, BatchRequest,
};
pub use codec::{decode_properties, decode_property_refs, encode_properties, merge_properties};
pub use datetime::{format_datetime, parse_datetime};
pub use filter::{parse_filter, Filter, KeyRange};
pub use json_in::{parse_entity, parse_table_name, EntityBody};
pub use json_out::{
    entity_etag, render_entity, render_entity_list, render_table, render_table_list, EntityView,
    Metadata,
};
pub use model::{property_refs, EdmValue, Properties, PropertyRefs, ValueRef};
pub use query_options::{parse_select, parse_top};
