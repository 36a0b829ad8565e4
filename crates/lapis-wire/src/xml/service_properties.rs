//! Blob (and Table) service properties: a typed model parsed from Set Service Properties,
//! merged into the stored one, and rendered for Get Service Properties.

use super::cors::CorsRule;
use super::tree::{invalid_document, invalid_node_value, parse_bool, Document, Element};
use super::{bool_str, push_element, XML_DECLARATION};
use crate::error::AzureError;

const MAX_CORS_RULES: usize = 5;
const DAYS_REASON: &str =
    "Retention days must be greater than 0 and less than or equal to 365 days.";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    pub enabled: bool,
    /// 1..=365, present when enabled.
    pub days: Option<u32>,
    /// Only the blob delete retention policy carries this.
    pub allow_permanent_delete: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub version: String,
    pub read: bool,
    pub write: bool,
    pub delete: bool,
    pub retention_policy: RetentionPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub version: String,
    pub enabled: bool,
    pub include_apis: Option<bool>,
    pub retention_policy: RetentionPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticWebsite {
    pub enabled: bool,
    pub index_document: Option<String>,
    pub error_document_404_path: Option<String>,
    pub default_index_document_path: Option<String>,
}

/// Each field is `None` when the document did not contain that element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceProperties {
    pub logging: Option<Logging>,
    pub hour_metrics: Option<Metrics>,
    pub minute_metrics: Option<Metrics>,
    pub cors: Option<Vec<CorsRule>>,
    pub default_service_version: Option<String>,
    pub delete_retention_policy: Option<RetentionPolicy>,
    pub static_website: Option<StaticWebsite>,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            version: "1.0".to_owned(),
            read: false,
            write: false,
            delete: false,
            retention_policy: RetentionPolicy::default(),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            version: "1.0".to_owned(),
            enabled: false,
            include_apis: None,
            retention_policy: RetentionPolicy::default(),
        }
    }
}

/// Reads child elements of one section, reporting problems where Azure does: a missing or
/// out-of-range value at the section's end tag.
struct Section<'a> {
    doc: &'a Document,
    element: &'a Element,
}

impl<'a> Section<'a> {
    fn text(&self, name: &str) -> Option<&'a str> {
        self.element.child(name).map(|e| e.text.trim())
    }

    fn missing(&self, name: &str) -> AzureError {
        self.invalid(&format!("Element is missing: {name}."))
    }

    fn invalid(&self, reason: &str) -> AzureError {
        self.doc
            .invalid_at(self.doc.end_tag_name(self.element), reason)
    }

    fn optional_bool(&self, name: &str) -> Result<Option<bool>, AzureError> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => parse_bool(text)
                .map(Some)
                .ok_or_else(|| invalid_node_value(name, text)),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, AzureError> {
        self.optional_bool(name)?.ok_or_else(|| self.missing(name))
    }

    fn string(&self, name: &str) -> Option<String> {
        self.text(name).map(str::to_owned)
    }

    fn child(&self, name: &str) -> Option<Section<'a>> {
        self.element.child(name).map(|element| Section {
            doc: self.doc,
            element,
        })
    }
}

fn parse_retention(s: &Section) -> Result<RetentionPolicy, AzureError> {
    let enabled = s.bool("Enabled")?;
    let allow_permanent_delete = s.optional_bool("AllowPermanentDelete")?;
    if !enabled {
        return Ok(RetentionPolicy {
            enabled,
            days: None,
            allow_permanent_delete,
        });
    }
    let days = s.text("Days").ok_or_else(|| s.missing("Days"))?;
    let days: i64 = days.parse().map_err(|_| invalid_node_value("Days", days))?;
    if !(1..=365).contains(&days) {
        return Err(s.invalid(DAYS_REASON));
    }
    Ok(RetentionPolicy {
        enabled,
        days: Some(days as u32),
        allow_permanent_delete,
    })
}

fn parse_nested_retention(s: &Section) -> Result<RetentionPolicy, AzureError> {
    match s.child("RetentionPolicy") {
        Some(policy) => parse_retention(&policy),
        None => Ok(RetentionPolicy::default()),
    }
}

fn parse_logging(s: &Section) -> Result<Logging, AzureError> {
    Ok(Logging {
        version: s.string("Version").unwrap_or_else(|| "1.0".to_owned()),
        read: s.bool("Read")?,
        write: s.bool("Write")?,
        delete: s.bool("Delete")?,
        retention_policy: parse_nested_retention(s)?,
    })
}

fn parse_metrics(s: &Section) -> Result<Metrics, AzureError> {
    let enabled = s.bool("Enabled")?;
    Ok(Metrics {
        version: s.string("Version").unwrap_or_else(|| "1.0".to_owned()),
        enabled,
        include_apis: if enabled {
            s.optional_bool("IncludeAPIs")?
        } else {
            None
        },
        retention_policy: parse_nested_retention(s)?,
    })
}

fn parse_cors(s: &Section) -> Result<Vec<CorsRule>, AzureError> {
    let rules: Vec<&Element> = s.element.children_named("CorsRule").collect();
    if rules.len() > MAX_CORS_RULES {
        return Err(s.invalid("The number of CORS rules must not exceed 5."));
    }
    rules
        .into_iter()
        .map(|rule| CorsRule::parse(s.doc, rule))
        .collect()
}

/// `YYYY-MM-DD`, the shape of every Azure REST version.
fn is_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn parse_static_website(s: &Section) -> Result<StaticWebsite, AzureError> {
    let site = StaticWebsite {
        enabled: s.bool("Enabled")?,
        index_document: s.string("IndexDocument"),
        error_document_404_path: s.string("ErrorDocument404Path"),
        default_index_document_path: s.string("DefaultIndexDocumentPath"),
    };
    // Azure documents the two as mutually exclusive: a folder has one index document or the
    // site has one default, and a site given both would serve one of them silently.
    if let (Some(_), Some(path)) = (&site.index_document, &site.default_index_document_path) {
        return Err(invalid_node_value("DefaultIndexDocumentPath", path));
    }
    Ok(site)
}

impl ServiceProperties {
    /// Parses a Set Service Properties body, validating like Azure.
    pub fn parse(body: &[u8]) -> Result<ServiceProperties, AzureError> {
        let Some(doc) = Document::parse(body)? else {
            return Err(invalid_document(0, 0, "Root element is missing."));
        };
        if doc.root.name != "StorageServiceProperties" {
            return Err(doc.invalid_at(0, "The root element must be StorageServiceProperties."));
        }
        let root = Section {
            doc: &doc,
            element: &doc.root,
        };
        let default_service_version = root.string("DefaultServiceVersion");
        if let Some(v) = &default_service_version {
            if !is_version(v) {
                return Err(invalid_node_value("DefaultServiceVersion", v));
            }
        }
        Ok(ServiceProperties {
            logging: root
                .child("Logging")
                .map(|s| parse_logging(&s))
                .transpose()?,
            hour_metrics: root
                .child("HourMetrics")
                .map(|s| parse_metrics(&s))
                .transpose()?,
            minute_metrics: root
                .child("MinuteMetrics")
                .map(|s| parse_metrics(&s))
                .transpose()?,
            cors: root.child("Cors").map(|s| parse_cors(&s)).transpose()?,
            default_service_version,
            delete_retention_policy: root
                .child("DeleteRetentionPolicy")
                .map(|s| parse_retention(&s))
                .transpose()?,
            static_website: root
                .child("StaticWebsite")
                .map(|s| parse_static_website(&s))
                .transpose()?,
        })
    }

    /// Set Service Properties replaces only the sections the request contained.
    pub fn merge_from(&mut self, newer: ServiceProperties) {
        fn take<T>(slot: &mut Option<T>, newer: Option<T>) {
            if newer.is_some() {
                *slot = newer;
            }
        }
        take(&mut self.logging, newer.logging);
        take(&mut self.hour_metrics, newer.hour_metrics);
        take(&mut self.minute_metrics, newer.minute_metrics);
        take(&mut self.cors, newer.cors);
        take(
            &mut self.default_service_version,
            newer.default_service_version,
        );
        take(
            &mut self.delete_retention_policy,
            newer.delete_retention_policy,
        );
        take(&mut self.static_website, newer.static_website);
    }

    /// What a fresh Blob service account answers.
    pub fn default_for_new_account() -> ServiceProperties {
        ServiceProperties {
            logging: Some(Logging::default()),
            hour_metrics: Some(Metrics::default()),
            minute_metrics: Some(Metrics::default()),
            cors: Some(Vec::new()),
            default_service_version: None,
            delete_retention_policy: Some(RetentionPolicy {
                enabled: false,
                days: None,
                allow_permanent_delete: Some(false),
            }),
            static_website: Some(StaticWebsite::default()),
        }
    }

    /// The Get Service Properties body. Logging, metrics and CORS are always present (with
    /// defaults); the blob-only sections only when set, so the Table service can reuse this.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str(XML_DECLARATION);
        out.push_str("<StorageServiceProperties>");
        render_logging(&mut out, &self.logging.clone().unwrap_or_default());
        render_metrics(
            &mut out,
            "HourMetrics",
            &self.hour_metrics.clone().unwrap_or_default(),
        );
        render_metrics(
            &mut out,
            "MinuteMetrics",
            &self.minute_metrics.clone().unwrap_or_default(),
        );
        match self.cors.as_deref() {
            None | Some([]) => out.push_str("<Cors />"),
            Some(rules) => {
                out.push_str("<Cors>");
                rules.iter().for_each(|rule| rule.render(&mut out));
                out.push_str("</Cors>");
            }
        }
        if let Some(version) = &self.default_service_version {
            push_element(&mut out, "DefaultServiceVersion", version);
        }
        if let Some(policy) = &self.delete_retention_policy {
            out.push_str("<DeleteRetentionPolicy>");
            push_retention_fields(&mut out, policy);
            push_element(
                &mut out,
                "AllowPermanentDelete",
                bool_str(policy.allow_permanent_delete.unwrap_or(false)),
            );
            out.push_str("</DeleteRetentionPolicy>");
        }
        if let Some(site) = &self.static_website {
            out.push_str("<StaticWebsite>");
            push_element(&mut out, "Enabled", bool_str(site.enabled));
            for (name, value) in [
                ("IndexDocument", &site.index_document),
                ("ErrorDocument404Path", &site.error_document_404_path),
                (
                    "DefaultIndexDocumentPath",
                    &site.default_index_document_path,
                ),
            ] {
                if let Some(value) = value {
                    push_element(&mut out, name, value);
                }
            }
            out.push_str("</StaticWebsite>");
        }
        out.push_str("</StorageServiceProperties>");
        out
    }
}

fn push_retention_fields(out: &mut String, policy: &RetentionPolicy) {
    push_element(out, "Enabled", bool_str(policy.enabled));
    if let (true, Some(days)) = (policy.enabled, policy.days) {
        push_element(out, "Days", &days.to_string());
    }
}

fn push_retention_policy(out: &mut String, policy: &RetentionPolicy) {
    out.push_str("<RetentionPolicy>");
    push_retention_fields(out, policy);
    out.push_str("</RetentionPolicy>");
}

fn render_logging(out: &mut String, logging: &Logging) {
    out.push_str("<Logging>");
    push_element(out, "Version", &logging.version);
    push_element(out, "Read", bool_str(logging.read));
    push_element(out, "Write", bool_str(logging.write));
    push_element(out, "Delete", bool_str(logging.delete));
    push_retention_policy(out, &logging.retention_policy);
    out.push_str("</Logging>");
}

fn render_metrics(out: &mut String, element: &str, metrics: &Metrics) {
    out.push('<');
    out.push_str(element);
    out.push('>');
    push_element(out, "Version", &metrics.version);
    push_element(out, "Enabled", bool_str(metrics.enabled));
    // Azure only reports IncludeAPIs while metrics are on.
    if metrics.enabled {
        push_element(
            out,
            "IncludeAPIs",
            bool_str(metrics.include_apis.unwrap_or(false)),
        );
    }
    push_retention_policy(out, &metrics.retention_policy);
    out.push_str("</");
    out.push_str(element);
    out.push('>');
}

#[cfg(test)]
#[path = "service_properties_tests.rs"]
mod tests;
