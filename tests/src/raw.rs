//! Raw HTTP/1.1 over a TCP stream, for requests a high-level client will not send: bodies
//! larger than the server accepts, with or without `Content-Length`.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// How the oversized body is framed.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `Content-Length: <len>`.
    ContentLength,
    /// `Transfer-Encoding: chunked`, no length announced.
    Chunked,
}

/// POSTs `len` bytes of JSON-ish padding to `path` and returns the response's status code.
/// The body is written while the response is read, so a server that answers early (as it
/// should) is heard even if it stops reading.
///
/// # Panics
///
/// If no status line arrives within 10 seconds or the connection fails.
pub async fn post_oversized(addr: SocketAddr, path: &str, len: usize, framing: Framing) -> u16 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let framing_header = match framing {
        Framing::ContentLength => format!("content-length: {len}\r\n"),
        Framing::Chunked => "transfer-encoding: chunked\r\n".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         x-webhook-signature: {}\r\n{framing_header}\r\n",
        "0".repeat(64)
    );
    let writing = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            match framing {
                Framing::ContentLength => writer.write_all(&chunk[..n]).await?,
                Framing::Chunked => {
                    writer.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                    writer.write_all(&chunk[..n]).await?;
                    writer.write_all(b"\r\n").await?;
                }
            }
            sent += n;
        }
        if let Framing::Chunked = framing {
            writer.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    let status = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = reader.read(&mut buffer).await.expect("read the response");
            assert!(n > 0, "connection closed without a response");
            response.extend_from_slice(&buffer[..n]);
            if let Some(line_end) = response.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&response[..line_end]).into_owned();
                break line
                    .split(' ')
                    .nth(1)
                    .and_then(|code| code.parse::<u16>().ok())
                    .expect("a status line");
            }
        }
    })
    .await
    .expect("a response within 10 s");
    writing.abort();
    status
}
