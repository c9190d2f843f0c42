//! Any bytes as the client's side of a TLS connection, through the server's own TLS turn
//! (`TlsOverMemory`: the loop's code, over memory instead of a socket), not rustls alone.
//! Byte 0 chooses what the bytes are (and TLS 1.3 or 1.2 for the client); bytes 1 and 2 seed the socket's read and send sizes:
//! - raw: the client's records from the first byte on (the ClientHello, the plain-HTTP check);
//! - plaintext: a rustls client completes a handshake, then sends the rest as requests; the
//!   answers it decrypts are exactly what the plain session answers to the same bytes;
//! - tampered: after a handshake, the rest goes to the server as raw records.
//!
//! Checked: no panic; no request reaches the service without a completed handshake; the
//! server's output is bounded by what it answers; a turn that waits has drained the socket or
//! filled it (the loop's readiness is edge-triggered: otherwise no event would come); once the
//! client has closed, the server closes too.
//!
//! The key and certificates are made once per run by `openssl req`, in a temporary directory:
//! no private key is in the repository.
#![no_main]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use prometheus_aioexporter::internals::{self as http, Request, RequestLimits, Response};
use prometheus_aioexporter::internals::{Action, Context, Service, Session, Status};
use prometheus_aioexporter::internals::{TlsOverMemory, TurnEnd};
use prometheus_aioexporter::TlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, ClientConnection, RootCertStore};

const LIMITS: RequestLimits = RequestLimits {
    max_request_head_bytes: 512,
};

const FUZZ: http::CommonHeaders<'static> = http::CommonHeaders {
    server: "fuzz",
    date: "Thu, 01 Jan 1970 00:00:00 GMT",
};

/// A body larger than rustls buffers unsent (64 KiB), so that the session keeps the rest.
const BIG: usize = 66_000;

/// Answers with the path as the body, and a body of [`BIG`] bytes for `/big`; counts requests.
#[derive(Default)]
struct Echo {
    requests: usize,
}

impl Service for Echo {
    fn respond(&mut self, request: &Request<'_>, _: &Context<'_>, response: &mut Response) {
        self.requests += 1;
        if request.path == "/big" {
            http::write_response_head(
                &mut response.head,
                &http::ResponseHead {
                    status: Status::OK,
                    content_type: "text/plain",
                    content_length: BIG,
                    keep_alive: request.keep_alive,
                    minor_version: request.minor_version,
                    common: FUZZ,
                    allow: None,
                    extra: &[],
                },
            );
            response.body = Some(Arc::new(vec![b'x'; BIG]));
            return;
        }
        http::write_simple_response(
            &mut response.head,
            Status::OK,
            request.path,
            request.keep_alive,
            request.method == http::Method::Head,
            FUZZ,
            None,
        );
    }
}

/// The server's configuration and a client that trusts it.
fn configs() -> &'static (TlsConfig, [Arc<ClientConfig>; 2]) {
    static CONFIGS: OnceLock<(TlsConfig, [Arc<ClientConfig>; 2])> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fuzz-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let req = |args: &[&str]| {
            let ok = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                ])
                .args(["-nodes", "-days", "2"])
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl makes the fuzz target's certificates")
                .status
                .success();
            assert!(ok, "openssl req {args:?} failed");
        };
        req(&[
            "-subj",
            "/CN=ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ]);
        req(&[
            "-subj",
            "/CN=localhost",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.pem",
        ]);
        let server =
            TlsConfig::from_pem_files(dir.join("server.key"), dir.join("server.pem"), None)
                .unwrap();
        let mut roots = RootCertStore::empty();
        let ca = std::fs::read(dir.join("ca.pem")).unwrap();
        for cert in CertificateDer::pem_slice_iter(&ca) {
            roots.add(cert.unwrap()).unwrap();
        }
        let client = |version: &'static rustls::SupportedProtocolVersion| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            Arc::new(config)
        };
        let clients = [
            client(&rustls::version::TLS13),
            client(&rustls::version::TLS12),
        ];
        let _ = std::fs::remove_dir_all(Path::new(&dir));
        (server, clients)
    })
}

/// The server and what the client has seen of it.
struct Link {
    server: TlsOverMemory,
    echo: Echo,
    /// Every byte the server sent.
    sent: usize,
    send_room: usize,
}

impl Link {
    /// Turns the server until it waits or closes; what it sent goes to `client` (if any, else
    /// it is dropped). Returns how the last turn ended.
    fn run(&mut self, mut client: Option<&mut ClientConnection>, plain: &mut Vec<u8>) -> TurnEnd {
        for _ in 0..1_000_000 {
            let end = self.server.turn(&mut self.echo, FUZZ);
            let out = self.server.take_sent();
            let blocked = out.len() >= self.send_room;
            self.sent += out.len();
            if let Some(client) = client.as_deref_mut() {
                // The client's plaintext is taken after each read: rustls refuses to read
                // records while its received-plaintext buffer is full, and a turn may send
                // more than that buffer holds.
                let mut rest = &out[..];
                while !rest.is_empty() {
                    if client.read_tls(&mut rest).is_err() {
                        break;
                    }
                    if client.process_new_packets().is_err() {
                        break;
                    }
                    let _ = std::io::copy(&mut client.reader(), plain);
                }
                let _ = std::io::copy(&mut client.reader(), plain);
            }
            match end {
                TurnEnd::Closed => return end,
                TurnEnd::Yielded => continue,
                TurnEnd::Waiting if blocked => continue,
                TurnEnd::Waiting => {
                    assert_eq!(
                        self.server.unread(),
                        0,
                        "waits with bytes unread: no event would come"
                    );
                    return end;
                }
            }
        }
        panic!("the server neither waited nor closed");
    }

    /// The client closes: the server must close too.
    fn close(&mut self, client: Option<&mut ClientConnection>, plain: &mut Vec<u8>) {
        self.server.client_closes();
        assert_eq!(
            self.run(client, plain),
            TurnEnd::Closed,
            "the client closed; the server did not"
        );
    }
}

/// What the plain session answers to `input`, read as fast as it takes it.
fn plain_answers(input: &[u8]) -> Vec<u8> {
    let peer = "127.0.0.1:9".parse().unwrap();
    let mut session = Session::new(peer, LIMITS);
    let context = Context {
        peer,
        arrived: Instant::now(),
        common: FUZZ,
        responses_in_flight: 0,
    };
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        match session.next(&mut Echo::default(), &context) {
            Action::Write => {
                let [head, body] = session.pending();
                let n = head.len() + body.len();
                out.extend_from_slice(head);
                out.extend_from_slice(body);
                session.wrote(n);
            }
            Action::Read if rest.is_empty() => session.received_eof(),
            Action::Read => {
                let n = session.read_room().min(rest.len());
                session.received(&rest[..n]);
                rest = &rest[n..];
            }
            Action::ShutdownWrite => {}
            Action::Close => return out,
        }
    }
}

/// A handshake between a rustls client of TLS 1.3 (`version` 0) or 1.2 and the server.
fn handshake(link: &mut Link, version: usize) -> ClientConnection {
    let config = Arc::clone(&configs().1[version]);
    let mut client = ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut plain = Vec::new();
    while client.is_handshaking() || link.server.is_handshaking() {
        let mut records = Vec::new();
        client.write_tls(&mut records).unwrap();
        link.server.client_sends(&records);
        assert_eq!(
            link.run(Some(&mut client), &mut plain),
            TurnEnd::Waiting,
            "handshake"
        );
    }
    // TLS 1.3's tickets, or the session's first words: nothing yet.
    assert!(plain.is_empty());
    client
}

fuzz_target!(|data: &[u8]| {
    let [mode, read_seed, send_seed, input @ ..] = data else {
        return;
    };
    let read_size = usize::from(*read_seed) * 64 + 1;
    // At least 16 bytes: a body sent a byte a turn would take most of the run.
    let send_room = usize::from(*send_seed) * 256 + 16;
    let server = TlsOverMemory::new(&configs().0, LIMITS, read_size, send_room).unwrap();
    let mut link = Link {
        server,
        echo: Echo::default(),
        sent: 0,
        send_room,
    };
    let mut plain = Vec::new();
    match mode % 3 {
        // Raw records: no handshake can complete, so no request is answered.
        0 => {
            for chunk in input.chunks(read_size) {
                link.server.client_sends(chunk);
                if link.run(None, &mut plain) == TurnEnd::Closed {
                    break;
                }
            }
            if !link.server.server_shut_writing() {
                link.close(None, &mut plain);
            }
            assert_eq!(link.echo.requests, 0);
            // The handshake's flight, an alert, or the 400 to plain HTTP.
            assert!(link.sent <= 16 * 1024, "{} bytes sent", link.sent);
        }
        // Requests over TLS: the same answers as in plain HTTP.
        1 => {
            let mut client = handshake(&mut link, usize::from(mode / 3 % 2));
            let after_handshake = link.sent;
            for chunk in input.chunks(read_size) {
                client.writer().write_all(chunk).unwrap();
                let mut records = Vec::new();
                while client.wants_write() {
                    client.write_tls(&mut records).unwrap();
                }
                link.server.client_sends(&records);
                if link.run(Some(&mut client), &mut plain) == TurnEnd::Closed {
                    break;
                }
            }
            if !link.server.server_shut_writing() {
                client.send_close_notify();
                let mut records = Vec::new();
                while client.wants_write() {
                    client.write_tls(&mut records).unwrap();
                }
                link.server.client_sends(&records);
                link.close(Some(&mut client), &mut plain);
            }
            assert_eq!(plain, plain_answers(input));
            // Records add a header and a tag per 16 KiB, and the close_notify.
            let overhead = 64 * (plain.len() / 16384 + 2);
            assert!(link.sent - after_handshake <= plain.len() + overhead + 1024);
        }
        // Raw records after a handshake: they cannot decrypt, so nothing is answered.
        _ => {
            let mut client = handshake(&mut link, usize::from(mode / 3 % 2));
            let after_handshake = link.sent;
            link.server.client_sends(input);
            if link.run(Some(&mut client), &mut plain) != TurnEnd::Closed {
                link.close(Some(&mut client), &mut plain);
            }
            assert_eq!(link.echo.requests, 0);
            assert!(plain.is_empty());
            assert!(
                link.sent - after_handshake <= 1024,
                "{} bytes sent",
                link.sent
            );
        }
    }
});
