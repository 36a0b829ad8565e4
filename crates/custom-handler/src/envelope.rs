//! The documents the Functions host and a custom handler exchange
//! (learn.microsoft.com/azure/azure-functions/functions-custom-handlers, "Request payload" and
//! "Response payload"). Field names are the host's own, PascalCase for the envelope, camelCase
//! for the HTTP output binding `res`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the host POSTs to `/<FunctionName>`: trigger and input data by binding name, and the
/// trigger's metadata (for a queue trigger: `DequeueCount`, `Id`, `PopReceipt`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InvocationRequest {
    #[serde(rename = "Data", default)]
    pub data: Map<String, Value>,
    #[serde(rename = "Metadata", default)]
    pub metadata: Map<String, Value>,
}

/// What the handler answers: values for the output bindings by name, lines for the invocation
/// log, and the `$return` value. A non-2xx status on the HTTP answer itself means the
/// invocation failed (for a queue trigger: the host retries, then poisons the message).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InvocationResponse {
    #[serde(rename = "Outputs", default)]
    pub outputs: Map<String, Value>,
    // The host's documented example answers `"Logs": null`; read that as no lines.
    #[serde(rename = "Logs", default, deserialize_with = "null_as_empty")]
    pub logs: Vec<String>,
    #[serde(rename = "ReturnValue", default)]
    pub return_value: Value,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

impl InvocationResponse {
    /// An answer with only log lines (a queue-triggered function with no outputs).
    pub fn logs_only(logs: Vec<String>) -> Self {
        InvocationResponse {
            logs,
            ..Default::default()
        }
    }

    /// An answer for an HTTP-triggered function: `res` is the name of its `http` output binding.
    pub fn http(binding: &str, res: HttpResponseOutput, logs: Vec<String>) -> Self {
        let mut outputs = Map::new();
        outputs.insert(
            binding.to_owned(),
            serde_json::to_value(res).unwrap_or(Value::Null),
        );
        InvocationResponse {
            outputs,
            logs,
            return_value: Value::Null,
        }
    }
}

/// The HTTP trigger's request (`Data.req`). `Query` arrives as a JSON-encoded string in the
/// documented example (`"Query": "{}"`) and as an object from other host versions, `Body` as a
/// string or, for a JSON request, sometimes as the parsed value: both are kept as `Value` and
/// read through the accessors.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HttpTriggerRequest {
    #[serde(rename = "Url", default)]
    pub url: String,
    #[serde(rename = "Method", default)]
    pub method: String,
    #[serde(rename = "Query", default)]
    pub query: Value,
    /// Header name -> its values.
    #[serde(rename = "Headers", default)]
    pub headers: BTreeMap<String, Vec<String>>,
    /// Route parameters (`{id}` in `orders/{id}`).
    #[serde(rename = "Params", default)]
    pub params: Map<String, Value>,
    #[serde(rename = "Identities", default, skip_serializing_if = "Value::is_null")]
    pub identities: Value,
    #[serde(rename = "Body", default)]
    pub body: Value,
}

impl HttpTriggerRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// A route parameter as text.
    pub fn param(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The request body as the client sent it: a string body as is, a parsed JSON body written
    /// back out, no body as empty.
    pub fn body_text(&self) -> String {
        match &self.body {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// The `http` output binding's value (`Outputs.res`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HttpResponseOutput {
    #[serde(
        rename = "statusCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Value,
}

/// A queue trigger's `Metadata`, as the host fills it from the dequeued message.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueTriggerMetadata {
    #[serde(rename = "DequeueCount", default)]
    pub dequeue_count: u64,
    #[serde(rename = "ExpirationTime", default)]
    pub expiration_time: Option<String>,
    #[serde(rename = "Id", default)]
    pub id: String,
    #[serde(rename = "InsertionTime", default)]
    pub insertion_time: Option<String>,
    #[serde(rename = "NextVisibleTime", default)]
    pub next_visible_time: Option<String>,
    #[serde(rename = "PopReceipt", default)]
    pub pop_receipt: Option<String>,
    #[serde(rename = "sys", default)]
    pub sys: Option<SysMetadata>,
}

/// `Metadata.sys`, which the host adds to every invocation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SysMetadata {
    #[serde(rename = "MethodName", default)]
    pub method_name: String,
    #[serde(rename = "UtcNow", default)]
    pub utc_now: String,
    #[serde(rename = "RandGuid", default)]
    pub rand_guid: String,
}

impl InvocationRequest {
    /// `Data.<name>` read as an HTTP trigger request.
    pub fn http_request(&self, name: &str) -> Result<HttpTriggerRequest, serde_json::Error> {
        let value = self.data.get(name).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value)
    }

    /// `Metadata` read as a queue trigger's.
    pub fn queue_metadata(&self) -> Result<QueueTriggerMetadata, serde_json::Error> {
        serde_json::from_value(Value::Object(self.metadata.clone()))
    }
}
