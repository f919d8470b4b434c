//! Serving the component over HTTP/1.1 on a TCP listener.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::runtime::{ConfigValues, ResponseBody, Runtime, SharedLog, Stderr};

/// Serve until the listener fails or the task is dropped; the guest's log lines go to
/// this process's stderr.
pub async fn serve(listener: TcpListener, runtime: Runtime, config: ConfigValues) -> Result<()> {
    serve_with(listener, runtime, config, Stderr::Inherit).await
}

/// Serve, choosing where the guest's stderr goes (`Stderr::Capture` discards it).
pub async fn serve_with(listener: TcpListener, runtime: Runtime, config: ConfigValues, stderr: Stderr) -> Result<()> {
    serve_inner(listener, runtime, config, stderr, None).await
}

/// Serve, collecting what the guest writes to stderr for each request into `log` once its
/// work for the request is done (a streamed response's lines come at its end).
pub async fn serve_logged(listener: TcpListener, runtime: Runtime, config: ConfigValues, log: SharedLog) -> Result<()> {
    serve_inner(listener, runtime, config, Stderr::Capture, Some(log)).await
}

async fn serve_inner(
    listener: TcpListener,
    runtime: Runtime,
    config: ConfigValues,
    stderr: Stderr,
    log: Option<SharedLog>,
) -> Result<()> {
    let runtime = Arc::new(runtime);
    loop {
        let (stream, peer) = listener.accept().await?;
        let runtime = runtime.clone();
        let config = config.clone();
        let log = log.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let runtime = runtime.clone();
                let config = config.clone();
                let log = log.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&runtime, req, config, stderr, log).await) }
            });
            if let Err(e) = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await
            {
                if !e.is_incomplete_message() {
                    eprintln!("connection from {peer}: {e}");
                }
            }
        });
    }
}

async fn respond(
    runtime: &Runtime,
    req: hyper::Request<hyper::body::Incoming>,
    config: ConfigValues,
    stderr: Stderr,
    log: Option<SharedLog>,
) -> hyper::Response<ResponseBody> {
    match runtime.handle(req, config, stderr).await {
        Ok((response, captured, finished)) => {
            if let (Some(log), Some(captured)) = (log, captured) {
                tokio::task::spawn(async move {
                    if let Err(e) = finished.await {
                        log.append(&format!("certgate-host: the guest failed: {e:#}\n"));
                    }
                    log.append(&captured.text());
                });
            }
            response
        }
        Err(e) => {
            eprintln!("Error handling request: {e:#}");
            let body =
                Full::new(Bytes::from_static(b"internal error\n")).map_err(|never| match never {}).boxed_unsync();
            let mut response = hyper::Response::new(body);
            *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

/// Bind a listener (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    Ok(TcpListener::bind(addr).await?)
}
