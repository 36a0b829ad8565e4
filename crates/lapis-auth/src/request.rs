//! What the server tells us about a request, and the small parsing helpers every scheme shares.

use std::borrow::Cow;
use std::net::IpAddr;

use lapis_wire::percent::Plus;

/// The storage service a request is addressed to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Service {
    Blob,
    Table,
    Queue,
    File,
}

impl Service {
    /// The letter of the service in an account SAS `ss`.
    pub fn sas_letter(self) -> char {
        match self {
            Service::Blob => 'b',
            Service::Table => 't',
            Service::Queue => 'q',
            Service::File => 'f',
        }
    }
}

/// What the server knows about the request. Header names are matched case-insensitively.
pub struct RequestInfo<'a> {
    /// "GET", "PUT", ...
    pub method: &'a str,
    /// Exactly as on the wire, still percent-encoded, e.g. "/devstoreaccount1/c/a%7C%7Cb".
    pub raw_path: &'a str,
    /// Exactly as on the wire, without '?'.
    pub raw_query: Option<&'a str>,
    /// All request headers; a repeated header is repeated entries.
    pub headers: &'a [(&'a str, &'a str)],
    /// The account named by the first path segment.
    pub account: &'a str,
    pub client_ip: Option<IpAddr>,
    pub https: bool,
}

impl RequestInfo<'_> {
    /// All values of a header, in order.
    pub(crate) fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// A header's value; repeated headers are joined with ',' as HTTP allows.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        let mut values = self.header_values(name).peekable();
        values.peek()?;
        Some(values.collect::<Vec<_>>().join(","))
    }

    /// Query parameters, names and values percent-decoded ('+' is kept: SAS signatures are base64).
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        let Some(query) = self.raw_query else {
            return Vec::new();
        };
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name).into_owned(), decode(value).into_owned())
            })
            .collect()
    }

    /// Container (or table) and blob named by the path after the account segment, decoded.
    pub(crate) fn resource_names(&self) -> (Option<String>, Option<String>) {
        let path = self.raw_path.strip_prefix('/').unwrap_or(self.raw_path);
        let mut segments = path.splitn(3, '/');
        let _account = segments.next();
        let container = segments
            .next()
            .filter(|c| !c.is_empty())
            .map(|c| decode(c).into_owned());
        let blob = segments
            .next()
            .filter(|b| !b.is_empty())
            .map(|b| decode(b).into_owned());
        (container, blob)
    }
}

/// Percent-decodes; invalid UTF-8 is replaced rather than rejected (the signature check then fails).
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    lapis_wire::percent::decode_lossy(s, Plus::Literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a [(&'a str, &'a str)],
    ) -> RequestInfo<'a> {
        RequestInfo {
            method: "GET",
            raw_path: path,
            raw_query: query,
            headers,
            account: "acc",
            client_ip: None,
            https: false,
        }
    }

    #[test]
    fn headers_match_case_insensitively_and_join_repeats() {
        let headers = [
            ("X-Ms-Meta-A", "1"),
            ("content-type", "text/plain"),
            ("x-ms-meta-a", "2"),
        ];
        let req = request("/acc", None, &headers);
        assert_eq!(req.header("x-ms-meta-a").as_deref(), Some("1,2"));
        assert_eq!(req.header("Content-Type").as_deref(), Some("text/plain"));
        assert_eq!(req.header("range"), None);
    }

    #[test]
    fn query_is_split_and_decoded() {
        let req = request(
            "/acc",
            Some("comp=list&sig=a%2Bb+c%3D&flag&&prefix=a%20b"),
            &[],
        );
        assert_eq!(
            req.query_pairs(),
            [
                ("comp", "list"),
                ("sig", "a+b+c="),
                ("flag", ""),
                ("prefix", "a b")
            ]
            .map(|(n, v)| (n.to_string(), v.to_string()))
        );
    }

    #[test]
    fn resource_names_are_decoded() {
        let req = request("/acc/cont/dir/a%7C%7Cb%20c", None, &[]);
        assert_eq!(
            req.resource_names(),
            (Some("cont".into()), Some("dir/a||b c".into()))
        );
        assert_eq!(
            request("/acc/cont", None, &[]).resource_names(),
            (Some("cont".into()), None)
        );
        assert_eq!(request("/acc/", None, &[]).resource_names(), (None, None));
    }
}
