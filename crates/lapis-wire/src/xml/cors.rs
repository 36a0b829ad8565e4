//! CORS rules of the service properties, and how a preflight request is matched against them.

use super::push_element;
use super::tree::{invalid_node_value, Document, Element};
use crate::error::AzureError;

/// Methods Azure allows in `AllowedMethods`.
const ALLOWED_METHODS: [&str; 8] = [
    "DELETE", "GET", "HEAD", "MERGE", "POST", "OPTIONS", "PUT", "PATCH",
];

/// One `<CorsRule>`; list fields are kept as the comma-separated strings Azure stores.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsRule {
    pub allowed_origins: String,
    pub allowed_methods: String,
    pub allowed_headers: String,
    pub exposed_headers: String,
    pub max_age_in_seconds: u32,
}

/// An allowed origin: `*`, an exact origin, or a subdomain wildcard such as
/// `http://*.contoso.com` (any host under `contoso.com`, same scheme), as the service allows.
fn origin_allowed(pattern: &str, origin: &str) -> bool {
    if pattern == "*" || pattern.eq_ignore_ascii_case(origin) {
        return true;
    }
    let (Some((scheme, host_pattern)), Some((origin_scheme, host))) =
        (pattern.split_once("://"), origin.split_once("://"))
    else {
        return false;
    };
    let Some(suffix) = host_pattern.strip_prefix("*.") else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let suffix = suffix.to_ascii_lowercase();
    scheme.eq_ignore_ascii_case(origin_scheme)
        && host.len() > suffix.len() + 1
        && host.ends_with(&suffix)
        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
}

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|item| !item.is_empty())
}

/// `*` matches anything, `prefix*` matches by prefix, anything else exactly; all case-insensitive.
fn header_allowed(pattern: &str, header: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => {
            header.len() >= prefix.len()
                && header.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        }
        None => pattern.eq_ignore_ascii_case(header),
    }
}

impl CorsRule {
    /// Whether a (preflight) request from `origin` using `method` and sending `request_headers`
    /// is allowed by this rule.
    pub fn matches(&self, origin: &str, method: &str, request_headers: &[&str]) -> bool {
        let origin_ok = list(&self.allowed_origins).any(|o| origin_allowed(o, origin));
        let method_ok = list(&self.allowed_methods).any(|m| m.eq_ignore_ascii_case(method));
        let headers_ok = request_headers
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .all(|h| list(&self.allowed_headers).any(|pattern| header_allowed(pattern, h)));
        origin_ok && method_ok && headers_ok
    }

    /// Whether the rule lets every origin in (`*`): its answers do not depend on the origin.
    pub fn allows_all_origins(&self) -> bool {
        list(&self.allowed_origins).any(|o| o == "*")
    }

    /// Whether the rule allows `method` (for a request that sent no Origin).
    pub fn allows_method(&self, method: &str) -> bool {
        list(&self.allowed_methods).any(|m| m.eq_ignore_ascii_case(method))
    }

    /// Reads one `<CorsRule>`; origins and methods are required, methods must be known.
    pub(crate) fn parse(doc: &Document, element: &Element) -> Result<CorsRule, AzureError> {
        let text = |name: &str| element.child(name).map(|e| e.text.trim().to_owned());
        let missing = |name: &str| {
            doc.invalid_at(
                doc.end_tag_name(element),
                &format!("Element is missing: {name}."),
            )
        };
        let allowed_origins = text("AllowedOrigins").ok_or_else(|| missing("AllowedOrigins"))?;
        let allowed_methods = text("AllowedMethods").ok_or_else(|| missing("AllowedMethods"))?;
        for method in list(&allowed_methods) {
            if !ALLOWED_METHODS.contains(&method) {
                return Err(invalid_node_value("AllowedMethods", &allowed_methods));
            }
        }
        let max_age = text("MaxAgeInSeconds").unwrap_or_else(|| "0".to_owned());
        let max_age_in_seconds = max_age
            .parse()
            .map_err(|_| invalid_node_value("MaxAgeInSeconds", &max_age))?;
        Ok(CorsRule {
            allowed_origins,
            allowed_methods,
            allowed_headers: text("AllowedHeaders").unwrap_or_default(),
            exposed_headers: text("ExposedHeaders").unwrap_or_default(),
            max_age_in_seconds,
        })
    }

    /// Azure's element order: methods, origins, headers, exposed headers, max age.
    pub(crate) fn render(&self, out: &mut String) {
        out.push_str("<CorsRule>");
        push_element(out, "AllowedMethods", &self.allowed_methods);
        push_element(out, "AllowedOrigins", &self.allowed_origins);
        push_element(out, "AllowedHeaders", &self.allowed_headers);
        push_element(out, "ExposedHeaders", &self.exposed_headers);
        push_element(out, "MaxAgeInSeconds", &self.max_age_in_seconds.to_string());
        out.push_str("</CorsRule>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &str, methods: &str, headers: &str) -> CorsRule {
        CorsRule {
            allowed_origins: origins.to_owned(),
            allowed_methods: methods.to_owned(),
            allowed_headers: headers.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn origins_match_case_insensitively_or_by_star() {
        let r = rule("http://www.contoso.com,http://www.fabrikam.com", "GET", "");
        assert!(r.matches("http://www.contoso.com", "GET", &[]));
        assert!(r.matches("HTTP://WWW.FABRIKAM.COM", "GET", &[]));
        assert!(!r.matches("http://evil.com", "GET", &[]));
        assert!(rule("*", "GET", "").matches("http://anything", "GET", &[]));
    }

    #[test]
    fn methods_must_be_listed() {
        let r = rule("*", "GET,PUT", "");
        assert!(r.matches("o", "PUT", &[]));
        assert!(!r.matches("o", "DELETE", &[]));
    }

    #[test]
    fn headers_match_exactly_by_prefix_or_star() {
        let r = rule("*", "PUT", "x-ms-meta-data*,Content-Type");
        assert!(r.matches("o", "PUT", &["x-ms-meta-data-abc", "content-type"]));
        assert!(r.matches("o", "PUT", &["X-MS-META-DATAX"]));
        assert!(!r.matches("o", "PUT", &["x-ms-meta-other"]));
        assert!(!r.matches("o", "PUT", &["content-type", "x-ms-version"]));
        assert!(rule("*", "PUT", "*").matches("o", "PUT", &["x-anything"]));
        assert!(!rule("*", "PUT", "").matches("o", "PUT", &["x-anything"]));
        assert!(rule("*", "PUT", "").matches("o", "PUT", &[""]));
    }

    #[test]
    fn renders_in_azure_order() {
        // TestSetCors.json (table service, same document shape).
        let r = CorsRule {
            allowed_origins: "www.xyz.com".to_owned(),
            allowed_methods: "PUT".to_owned(),
            allowed_headers: "x-ms-meta-data*".to_owned(),
            exposed_headers: "x-ms-meta-source*".to_owned(),
            max_age_in_seconds: 500,
        };
        let mut out = String::new();
        r.render(&mut out);
        assert_eq!(out, "<CorsRule><AllowedMethods>PUT</AllowedMethods><AllowedOrigins>www.xyz.com</AllowedOrigins><AllowedHeaders>x-ms-meta-data*</AllowedHeaders><ExposedHeaders>x-ms-meta-source*</ExposedHeaders><MaxAgeInSeconds>500</MaxAgeInSeconds></CorsRule>");
    }

    #[test]
    fn subdomain_wildcards_match_hosts_under_the_domain() {
        for (origin, ok) in [
            ("http://www.contoso.com", true),
            ("http://a.b.contoso.com", true),
            ("http://WWW.Contoso.com", true),
            ("http://www.contoso.com:8080", false),
            ("https://www.contoso.com", false),
            ("http://contoso.com", false),
            ("http://evilcontoso.com", false),
            ("http://www.contoso.com.evil.net", false),
        ] {
            assert_eq!(
                origin_allowed("http://*.contoso.com", origin),
                ok,
                "{origin}"
            );
        }
        assert!(origin_allowed("*", "http://any"));
        assert!(origin_allowed(
            "http://www.fabrikam.com",
            "http://www.fabrikam.com"
        ));
        assert!(!origin_allowed(
            "http://www.fabrikam.com",
            "http://fabrikam.com"
        ));
    }
}
