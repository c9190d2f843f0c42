//! The size floor: a bare std-only TCP responder (accept, read a request head, write a fixed
//! HTTP response, keep the connection while the client does), to compare a static exporter's
//! size with. It uses nothing of this crate; built with the crate's release profile by
//! `scripts/size.sh`.
//!
//! ```text
//! cargo run --release --example size_floor -- 9099 &
//! curl localhost:9099/
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
Content-Length: 10\r\n\r\nfloor 1.0\n";

fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..])?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            stream.write_all(RESPONSE)?;
            buf.copy_within(end + 4..filled, 0);
            filled -= end + 4;
        }
        if filled == buf.len() {
            return Ok(()); // a head larger than the buffer: give up on this client
        }
    }
}

fn main() {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(9099);
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    for stream in listener.incoming().flatten() {
        let _ = serve(stream);
    }
}
