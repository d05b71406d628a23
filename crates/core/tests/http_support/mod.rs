//! One HTTP/1.1 request read by the test servers (and benchmarks) that speak
//! the providers' wire formats on 127.0.0.1: its head parsed by `httparse`,
//! then a `Content-Length` body. Every server reads requests this way; how
//! each answers is its own.
#![allow(dead_code)]

/// The most a head may take; a longer one is not a request these servers read.
const MAX_HEAD: usize = 1 << 20;
/// The most a body may take (a 128k-token prompt is a few MB).
const MAX_BODY: usize = 64 << 20;
/// Headers read at most.
const MAX_HEADERS: usize = 64;

/// A request as the client sent it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`…
    pub method: String,
    /// The request target, query included.
    pub path: String,
    /// The head as text, the request line and the blank line included.
    pub head: String,
    /// The headers as `httparse` read them, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (its `Content-Length` bytes; empty without one).
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value (the first of its name, in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What the bytes read so far hold.
enum Parsed {
    /// More is needed (`Some(n)`: the whole request is `n` bytes).
    More(Option<usize>),
    Whole(Request),
    /// Malformed or over the limits.
    Refused,
}

fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Parsed::More(None),
        _ => return Parsed::Refused,
    };
    let length = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        });
    let length = match length {
        None => 0,
        Some(Some(n)) if n <= MAX_BODY => n,
        Some(_) => return Parsed::Refused,
    };
    if buf.len() < head_len + length {
        return Parsed::More(Some(head_len + length));
    }
    Parsed::Whole(Request {
        method: request.method.unwrap_or_default().to_owned(),
        path: request.path.unwrap_or_default().to_owned(),
        head: String::from_utf8_lossy(&buf[..head_len]).into_owned(),
        headers: request
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).trim().to_owned();
                (h.name.to_owned(), value)
            })
            .collect(),
        body: buf[head_len..head_len + length].to_vec(),
    })
}

/// Reads one request from an async socket; `None` when the client closed
/// first or sent what is not a request.
pub async fn read<R: tokio::io::AsyncRead + Unpin>(sock: &mut R) -> Option<Request> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        match parse(&buf) {
            Parsed::Whole(request) => return Some(request),
            Parsed::Refused => return None,
            Parsed::More(total) => reserve(&mut buf, total),
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads one request from a blocking socket, as [`read`] does.
pub fn read_blocking<R: std::io::Read>(sock: &mut R) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        match parse(&buf) {
            Parsed::Whole(request) => return Some(request),
            Parsed::Refused => return None,
            Parsed::More(total) => reserve(&mut buf, total),
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Grows the buffer once to the whole request's size when it is known.
fn reserve(buf: &mut Vec<u8>, total: Option<usize>) {
    if let Some(total) = total {
        buf.reserve(total.saturating_sub(buf.len()));
    }
}
