//! The accept loop: TCP listeners, the TLS handshake, HTTP/1.1 and HTTP/2 per connection, a
//! cap on simultaneous connections, a friendly redirect for someone who typed `http://`, and a
//! graceful shutdown that lets requests in flight finish.
//!
//! A connection that does nothing is closed: the TLS handshake and each request's headers
//! must come within [`HANDSHAKE_TIMEOUT`], and a connection on which no request starts for
//! [`IDLE_TIMEOUT`] is shut down gracefully (a response still streaming, the live event
//! stream, finishes first). The protocol comes from ALPN (`h2`, else HTTP/1.1), never from
//! sniffing the first bytes, which waited without a limit: 600 connections that completed
//! the handshake and sent nothing kept 512 places and the owner out (issue 10). One address
//! holds at most [`per_address_limit`] connections, so the rest stay free for everyone else.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ClientAddr;

/// A client must finish the TLS handshake, and send its request headers, within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection on which no request starts for this long is closed (gracefully).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long requests in flight may take to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The first byte of a TLS ClientHello record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

pub struct Server {
    pub listeners: Vec<TcpListener>,
    pub tls: Arc<rustls::ServerConfig>,
    pub app: Router,
    pub max_connections: usize,
    /// Set once the accept loops run (a health check of the boot slot waits for it).
    pub serving: Arc<std::sync::atomic::AtomicBool>,
}

/// Connections one address may hold: an eighth of all (64 of the default 512), at least 4.
pub fn per_address_limit(max_connections: usize) -> usize {
    (max_connections / 8).max(4)
}

/// Open connections per client address.
#[derive(Clone)]
struct PerAddress {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    limit: usize,
}

/// A place held by one connection of an address; given back when dropped.
struct AddressSlot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    address: IpAddr,
}

impl PerAddress {
    fn take(&self, address: IpAddr) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(address).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            open: Arc::clone(&self.open),
            address,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

impl Server {
    /// Serves until `shutdown` is cancelled, then drains connections.
    pub async fn serve(self, shutdown: CancellationToken) {
        let connections = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(self.max_connections));
        let per_address = PerAddress {
            open: Arc::default(),
            limit: per_address_limit(self.max_connections),
        };
        let acceptor = TlsAcceptor::from(self.tls);
        let mut loops = tokio::task::JoinSet::new();
        for listener in self.listeners {
            loops.spawn(accept_loop(
                listener,
                acceptor.clone(),
                self.app.clone(),
                Arc::clone(&permits),
                per_address.clone(),
                connections.clone(),
                shutdown.clone(),
            ));
        }
        self.serving
            .store(true, std::sync::atomic::Ordering::SeqCst);
        while loops.join_next().await.is_some() {}
        connections.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait())
            .await
            .is_err()
        {
            log::warn!("closing connections still busy after {DRAIN_TIMEOUT:?}");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    permits: Arc<Semaphore>,
    per_address: PerAddress,
    connections: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("semaphore never closed"),
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    log::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_address.take(peer.ip()) else {
            log::debug!(
                "{} holds {} connections already: refused",
                peer.ip(),
                per_address.limit
            );
            continue; // dropping the stream closes it, and the permit is free again
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _places = (permit, slot);
            handle_connection(stream, peer, acceptor, app, shutdown).await;
        });
    }
}

async fn handle_connection(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: Router,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return,
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        redirect_plain_http(stream).await;
        return;
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(err)) => {
            log::debug!("TLS handshake with {peer} failed: {err}");
            return;
        }
        Err(_) => {
            log::debug!("TLS handshake with {peer} timed out");
            return;
        }
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let opened = Instant::now();
    let last_request = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&last_request);
    let service = tower::ServiceExt::map_request(app, move |mut request: Request<Incoming>| {
        seen.store(opened.elapsed().as_millis() as u64, Ordering::Relaxed);
        request.extensions_mut().insert(ClientAddr(peer));
        request
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(64);
    let builder = if h2 {
        builder.http2_only()
    } else {
        builder.http1_only()
    };
    let connection = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
    tokio::pin!(connection);
    let mut idle_check = tokio::time::interval(IDLE_TIMEOUT / 4);
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = false;
    let result = loop {
        tokio::select! {
            result = connection.as_mut() => break result,
            _ = shutdown.cancelled(), if !closing => {
                // Finish the requests in flight, accept no new ones on this connection.
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = idle_check.tick(), if !closing => {
                let since = opened.elapsed().as_millis() as u64
                    - last_request.load(Ordering::Relaxed);
                if Duration::from_millis(since) >= IDLE_TIMEOUT {
                    log::debug!("closing the idle connection from {peer}");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    };
    if let Err(err) = result {
        log::debug!("connection from {peer} ended: {err}");
    }
}

/// Someone typed `http://box:8080`: answer with a redirect to the same address over HTTPS
/// instead of a TLS error page.
async fn redirect_plain_http(mut stream: TcpStream) {
    let mut buffer = vec![0u8; 4096];
    let mut filled = 0;
    let read = async {
        while filled < buffer.len() {
            match stream.read(&mut buffer[filled..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
            if buffer[..filled].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    if tokio::time::timeout(HANDSHAKE_TIMEOUT, read).await.is_err() {
        return;
    }
    let response = match https_location(&buffer[..filled]) {
        Some(location) => format!(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        None => {
            let body = "This console is served over HTTPS only. / 本控制台仅支持 HTTPS 访问。\n";
            format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `https://<Host><path>` for a plain HTTP request, when its host and path are clean.
fn https_location(request: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(request).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let _method = request_line.next()?;
    let path = request_line.next().filter(|p| p.starts_with('/'))?;
    let host = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim())?;
    let clean_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    let clean_path = path.chars().all(|c| c.is_ascii_graphic());
    (clean_host && clean_path).then(|| format!("https://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_sent_to_https() {
        let request =
            b"GET /index.html?x=1 HTTP/1.1\r\nHost: 192.168.1.100:8080\r\nAccept: */*\r\n\r\n";
        assert_eq!(
            https_location(request).as_deref(),
            Some("https://192.168.1.100:8080/index.html?x=1")
        );
    }

    #[test]
    fn injected_hosts_are_not_echoed() {
        let request = b"GET / HTTP/1.1\r\nHost: evil\r\nX: y\r\n\r\n";
        assert_eq!(https_location(request).as_deref(), Some("https://evil/"));
        let request = b"GET / HTTP/1.1\r\nHost: a b<script>\r\n\r\n";
        assert_eq!(https_location(request), None);
        let request = b"GET http://x/ HTTP/1.1\r\nHost: box\r\n\r\n";
        assert_eq!(https_location(request), None);
    }
}
