//! Serving the component over HTTP/1.1 on a TCP listener.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::runtime::{ConfigValues, ResponseBody, Runtime, Stderr};

/// Serve until the listener fails or the task is dropped; the guest's log lines go to
/// this process's stderr.
pub async fn serve(listener: TcpListener, runtime: Runtime, config: ConfigValues) -> Result<()> {
    serve_with(listener, runtime, config, Stderr::Inherit).await
}

/// Serve, choosing where the guest's stderr goes (`Stderr::Capture` discards it).
pub async fn serve_with(listener: TcpListener, runtime: Runtime, config: ConfigValues, stderr: Stderr) -> Result<()> {
    let runtime = Arc::new(runtime);
    loop {
        let (stream, peer) = listener.accept().await?;
        let runtime = runtime.clone();
        let config = config.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let runtime = runtime.clone();
                let config = config.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&runtime, req, config, stderr).await) }
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
) -> hyper::Response<ResponseBody> {
    match runtime.handle(req, config, stderr).await {
        Ok((response, _, _task)) => response,
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
