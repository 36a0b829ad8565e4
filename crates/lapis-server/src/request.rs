//! What a handler needs to know about a request, parsed once: the account, container and blob the
//! path names, the query, and typed access to the headers.

use http::HeaderMap;
use lapis_wire::percent::{self, Plus};
use lapis_wire::{AzureError, ErrorCode};

use crate::conn::MetadataNameCase;
use crate::router::Level;

/// The resource a path-style URL names: `/account[/container[/blob…]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub container: Option<String>,
    pub blob: Option<String>,
}

impl Target {
    pub fn level(&self) -> Level {
        match (&self.container, &self.blob) {
            (None, _) => Level::Service,
            (Some(_), None) => Level::Container,
            (Some(_), Some(_)) => Level::Blob,
        }
    }
}

fn decode(s: &str) -> Result<String, AzureError> {
    percent::decode_utf8(s, Plus::Literal)
        .map(|c| c.into_owned())
        .ok_or_else(|| AzureError::new(ErrorCode::InvalidUri))
}

/// Azure's limit on the `/`-separated segments of a blob name.
const MAX_BLOB_NAME_SEGMENTS: usize = 254;

/// A blob name from its raw path segment: decoded, with `\` read as `/` (Azure stores and lists
/// `a\b` as `a/b`), and at most 254 segments.
fn blob_name(raw: &str) -> Result<String, AzureError> {
    let name = decode(raw)?.replace('\\', "/");
    if name.split('/').count() > MAX_BLOB_NAME_SEGMENTS {
        return Err(AzureError::new(ErrorCode::InvalidUri).message(format!(
            "The blob name has more than {MAX_BLOB_NAME_SEGMENTS} path segments."
        )));
    }
    Ok(name)
}

/// Splits a raw (still percent-encoded) path. The blob name is everything after the container,
/// slashes included; an empty blob name (`/acct/container/`) addresses the container.
pub fn parse_path(raw_path: &str) -> Result<Target, AzureError> {
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let mut parts = trimmed.splitn(3, '/');
    let account = parts.next().unwrap_or_default();
    if account.is_empty() {
        return Err(AzureError::new(ErrorCode::InvalidUri)
            .message("The requested URI does not represent any resource on the server."));
    }
    let container = parts
        .next()
        .filter(|c| !c.is_empty())
        .map(decode)
        .transpose()?;
    let blob = match (&container, parts.next()) {
        (Some(_), Some(b)) if !b.is_empty() => Some(blob_name(b)?),
        _ => None,
    };
    Ok(Target {
        account: decode(account)?,
        container,
        blob,
    })
}

/// One form-encoded query name or value: `+` is a space, `%XX` a byte, invalid UTF-8 replaced.
fn form_decode(raw: &str) -> String {
    percent::decode_lossy(raw, Plus::Space).into_owned()
}

/// Query parameters, decoded (`+` is a space, as form encoding). Names keep their case; lookups
/// are case-sensitive as in Azure (`comp`, `restype` are lowercase on the wire).
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((form_decode(k), form_decode(v)));
        }
        Query(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Typed header access with Azure's errors for bad values.
pub struct Headers<'a> {
    map: &'a HeaderMap,
    names: Option<&'a MetadataNameCase>,
}

impl<'a> Headers<'a> {
    pub fn of<B>(req: &'a http::Request<B>) -> Headers<'a> {
        Headers {
            map: req.headers(),
            names: req.extensions().get(),
        }
    }

    /// Headers that are not a request's (a copy source's answer): metadata names as sent.
    pub fn of_map(map: &'a HeaderMap) -> Headers<'a> {
        Headers { map, names: None }
    }

    pub fn of_parts(parts: &'a http::request::Parts) -> Headers<'a> {
        Headers {
            map: &parts.headers,
            names: parts.extensions.get(),
        }
    }

    /// The header as text; a value that is not visible ASCII/UTF-8 is treated as absent.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.map.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every header whose value is text, names lowercase.
    pub fn all(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.map
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    pub fn invalid(name: &str, value: &str) -> AzureError {
        AzureError::new(ErrorCode::InvalidHeaderValue)
            .detail("HeaderName", name)
            .detail("HeaderValue", value)
    }

    /// A base64 MD5 header: exactly 16 bytes or `InvalidMd5`.
    pub fn md5(&self, name: &str) -> Result<Option<Vec<u8>>, AzureError> {
        use base64::Engine;
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
            Ok(b) if b.len() == 16 => Ok(Some(b)),
            _ => Err(AzureError::new(ErrorCode::InvalidMd5)
                .detail("HeaderName", name)
                .detail("HeaderValue", v)),
        }
    }

    /// A base64 CRC64 header: exactly 8 bytes, little-endian as the SDKs send it.
    pub fn crc64(&self, name: &str) -> Result<Option<u64>, AzureError> {
        use base64::Engine;
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
            Ok(b) if b.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&b);
                Ok(Some(u64::from_le_bytes(a)))
            }
            _ => Err(Self::invalid(name, v)),
        }
    }

    /// `x-ms-meta-*` headers as (name, value) pairs, validated by Azure's naming rules.
    pub fn metadata(&self) -> Result<Vec<(String, String)>, AzureError> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut total = 0usize;
        for (name, value) in self.map.iter() {
            let Some(meta) = name
                .as_str()
                .strip_prefix(lapis_wire::headers::X_MS_META_PREFIX)
            else {
                continue;
            };
            lapis_wire::names::validate_metadata_name(meta)?;
            let meta = self
                .names
                .map(|n| n.original(meta))
                .unwrap_or_else(|| meta.to_string());
            let meta = meta.as_str();
            let value = value
                .to_str()
                .map_err(|_| AzureError::new(ErrorCode::InvalidMetadata))?
                .trim()
                .to_string();
            total += meta.len() + value.len();
            if let Some(existing) = out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(meta)) {
                // A repeated name arrives as a comma-joined value, as HTTP folds it.
                existing.1.push(',');
                existing.1.push_str(&value);
            } else {
                out.push((meta.to_string(), value));
            }
        }
        // Azure: metadata may total at most 8 KiB.
        if total > 8 * 1024 {
            return Err(AzureError::new(ErrorCode::MetadataTooLarge));
        }
        Ok(out)
    }

    pub fn http_date(&self, name: &str) -> Result<Option<time::OffsetDateTime>, AzureError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match lapis_wire::time_format::parse_http_date(v) {
            Some(t) => Ok(Some(t)),
            // Azure ignores an unparsable conditional date rather than failing the request.
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_shapes() {
        assert_eq!(parse_path("/acct").unwrap().level(), Level::Service);
        assert_eq!(parse_path("/acct/").unwrap().level(), Level::Service);
        assert_eq!(parse_path("/acct/c").unwrap().level(), Level::Container);
        assert_eq!(parse_path("/acct/c/").unwrap().level(), Level::Container);
        let t = parse_path("/acct/c/dir/a%7C%7Cb%20c").unwrap();
        assert_eq!(t.container.as_deref(), Some("c"));
        assert_eq!(t.blob.as_deref(), Some("dir/a||b c"));
        assert!(parse_path("/").is_err());
        assert!(parse_path("/acct/c/%FF").is_err());
        assert_eq!(
            parse_path("/acct/c/a%5Cb\\c").unwrap().blob.as_deref(),
            Some("a/b/c")
        );
        let deep = |n: usize| format!("/acct/c/{}", vec!["s"; n].join("/"));
        assert!(parse_path(&deep(254)).is_ok());
        assert!(parse_path(&deep(255)).is_err());
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("comp=list&prefix=a%2Fb+c&marker="));
        assert_eq!(q.get("comp"), Some("list"));
        assert_eq!(q.get("prefix"), Some("a/b c"));
        assert_eq!(q.get("marker"), Some(""));
        assert_eq!(q.get("absent"), None);
    }
}
