//! The page in `web/`, compiled into the binary so `cargo run` serves it from anywhere.

use crate::gateway::HttpResponse;
use bytes::Bytes;
use http_body_util::Full;

const INDEX: &str = include_str!("../../web/index.html");
const APP: &str = include_str!("../../web/app.js");
const STYLE: &str = include_str!("../../web/style.css");

/// The file at `path`, if it is one of the page's.
pub fn file(path: &str) -> Option<HttpResponse> {
    let (body, content_type) = match path {
        "/" | "/index.html" => (INDEX, "text/html; charset=utf-8"),
        "/web/app.js" => (APP, "text/javascript; charset=utf-8"),
        "/web/style.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    http::Response::builder()
        .header(http::header::CONTENT_TYPE, content_type)
        .header(http::header::CACHE_CONTROL, "no-cache")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .ok()
}
