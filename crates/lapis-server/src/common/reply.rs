//! A small response builder: headers that do not fit in HTTP are dropped instead of failing
//! the request, and the formats Azure uses for ETags and dates are applied in one place.

use axum::body::Body;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use lapis_wire::time_format::rfc1123;
use time::OffsetDateTime;

use crate::conn::ResponseMetadataCase;

pub struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    /// Metadata names as stored, so the connection can write them in their case.
    metadata_case: Vec<String>,
}

impl Reply {
    pub fn new(status: StatusCode) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        Reply {
            status,
            headers,
            body: Body::empty(),
            metadata_case: Vec::new(),
        }
    }

    /// A header our code names. `from_static` neither parses nor copies the name (parsing and
    /// copying each name was 5 % of a small GET); every name is a lowercase literal that the
    /// operation's tests send through here, so an invalid one fails those tests.
    pub fn header(self, name: &'static str, value: impl AsRef<str>) -> Reply {
        self.insert(HeaderName::from_static(name), value.as_ref())
    }

    /// A header whose name comes from data (metadata names): parsed, and dropped if invalid.
    pub fn header_named(self, name: &str, value: impl AsRef<str>) -> Reply {
        match HeaderName::try_from(name) {
            Ok(n) => self.insert(n, value.as_ref()),
            Err(_) => self,
        }
    }

    /// A header whose value is a literal too: nothing is validated or copied at run time.
    pub fn fixed(mut self, name: &'static str, value: &'static str) -> Reply {
        self.headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        self
    }

    fn insert(mut self, name: HeaderName, value: &str) -> Reply {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub fn header_opt(self, name: &'static str, value: Option<impl AsRef<str>>) -> Reply {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    /// `ETag: "0x8D…"`: the engine keeps ETags unquoted; HTTP wants them quoted.
    pub fn etag(self, etag: &str) -> Reply {
        self.header("etag", format!("\"{etag}\""))
    }

    pub fn date(self, name: &'static str, t: OffsetDateTime) -> Reply {
        self.header(name, rfc1123(t))
    }

    pub fn base64(self, name: &'static str, bytes: &[u8]) -> Reply {
        self.header(
            name,
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
    }

    pub fn metadata(mut self, metadata: &[(String, String)]) -> Reply {
        for (k, v) in metadata {
            self = self.header_named(&format!("x-ms-meta-{k}"), v);
            if k.bytes().any(|b| b.is_ascii_uppercase()) {
                self.metadata_case.push(k.clone());
            }
        }
        self
    }

    pub fn xml(mut self, xml: String) -> Reply {
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        self.headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(xml.len()));
        self.body = Body::from(xml);
        self
    }

    /// A JSON body with the given content type (OData varies it by metadata level).
    pub fn json(mut self, json: String, content_type: &'static str) -> Reply {
        self.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        self.headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(json.len()));
        self.body = Body::from(json);
        self
    }

    /// A streamed or prepared body whose length the caller states.
    pub fn body(mut self, body: Body, len: u64) -> Reply {
        self.headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        self.body = body;
        self
    }

    /// For HEAD: the length of the body a GET would carry, with no body.
    pub fn content_length(mut self, len: u64) -> Reply {
        self.headers
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        self
    }

    pub fn finish(self) -> Response<Body> {
        let mut resp = Response::new(self.body);
        *resp.status_mut() = self.status;
        *resp.headers_mut() = self.headers;
        if !self.metadata_case.is_empty() {
            resp.extensions_mut()
                .insert(ResponseMetadataCase(self.metadata_case));
        }
        resp
    }
}
