//! istiod's own view of the mesh config, from its debug endpoint (plain HTTP, usually on
//! loopback or through a port-forward). Off when no address is configured; never an error.

use crate::domain::policy::{mode_from_istiod_mesh, IstiodView};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Asks istiod at `base` (such as `http://127.0.0.1:15080`) which mode it uses.
pub async fn istiod_view(base: &str) -> IstiodView {
    match tokio::time::timeout(Duration::from_secs(2), fetch_debug_mesh(base)).await {
        Ok(Ok(body)) => match mode_from_istiod_mesh(&body) {
            Ok(mode) => IstiodView::Using(mode),
            Err(e) => IstiodView::Unreachable(format!("unexpected answer: {e}")),
        },
        Ok(Err(e)) => IstiodView::Unreachable(e),
        Err(_) => IstiodView::Unreachable("no answer within 2 s".to_string()),
    }
}

async fn fetch_debug_mesh(base: &str) -> Result<String, String> {
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base} must start with http://"))?
        .trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    let request = format!(
        "GET /debug/mesh HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "a malformed HTTP answer".to_string())?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or_default().to_string());
    }
    Ok(body.to_string())
}
