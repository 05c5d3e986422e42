//! A scripted HTTP/1.1 server for tests: std `TcpListener` on 127.0.0.1:0,
//! one connection at a time, one request per connection (`Connection:
//! close`). A handler decides each answer; every request is recorded.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A request as the server read it (the head only: tests send GETs).
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names in lower case.
    pub(crate) headers: Vec<(String, String)>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// Sends this answer and closes the connection.
    Reply { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Sends these bytes as they are (status line, headers, body) and
    /// closes the connection.
    Raw(Vec<u8>),
    /// Reads the request, then never answers; the connection stays open
    /// until the server is dropped.
    Hang,
}

impl Answer {
    /// A 200 with this body and these headers.
    pub(crate) fn ok(body: impl Into<Vec<u8>>, headers: &[(&str, &str)]) -> Self {
        Self::status(200, headers).with_body(body)
    }

    /// A body-less answer with this status and these headers.
    pub(crate) fn status(status: u16, headers: &[(&str, &str)]) -> Self {
        let headers = headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        Self::Reply { status, headers, body: Vec::new() }
    }

    fn with_body(self, body: impl Into<Vec<u8>>) -> Self {
        match self {
            Self::Reply { status, headers, .. } => Self::Reply { status, headers, body: body.into() },
            other => other,
        }
    }
}

type Handler = Box<dyn FnMut(&Request) -> Answer + Send>;

struct Inner {
    handler: Mutex<Handler>,
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
    held: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

/// The server; dropping it stops it and closes every held connection.
pub(crate) struct TestServer {
    addr: SocketAddr,
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TestServer {
    /// Starts a server answering every request with `handler`.
    pub(crate) fn start(handler: impl FnMut(&Request) -> Answer + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let inner = Arc::new(Inner {
            handler: Mutex::new(Box::new(handler)),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            held: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let thread_inner = Arc::clone(&inner);
        let thread = thread::spawn(move || serve(&listener, &thread_inner));
        Self { addr, inner, thread: Some(thread) }
    }

    /// Replaces the handler.
    pub(crate) fn set(&self, handler: impl FnMut(&Request) -> Answer + Send + 'static) {
        *lock(&self.inner.handler) = Box::new(handler);
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests so far.
    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.inner.requests).clone()
    }

    /// How many requests so far.
    pub(crate) fn count(&self) -> usize {
        lock(&self.inner.requests).len()
    }

    /// Waits until at least `n` requests have arrived (or `timeout`);
    /// returns the count.
    pub(crate) fn wait_for_requests(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.inner.requests);
        while requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            requests = self.inner.arrived.wait_timeout(requests, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        requests.len()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        // Unblock accept().
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for stream in lock(&self.inner.held).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn serve(listener: &TcpListener, inner: &Inner) {
    for stream in listener.incoming() {
        if inner.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        handle(stream, inner);
    }
}

fn handle(mut stream: TcpStream, inner: &Inner) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_head(&mut stream) else { return };
    let answer = (lock(&inner.handler))(&request);
    lock(&inner.requests).push(request);
    inner.arrived.notify_all();
    match answer {
        Answer::Hang => lock(&inner.held).push(stream),
        Answer::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Write);
        }
        Answer::Reply { status, headers, body } => {
            let mut out = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n", reason(status));
            for (name, value) in &headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            if status != 304 && status != 204 {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
}

fn read_head(stream: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Request { method, path, headers })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
