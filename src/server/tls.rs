//! HTTPS on the same loop, with the `tls` feature: the configuration ([`TlsConfig`], read from
//! PEM files) and the I/O of one TLS connection.
//!
//! rustls does no I/O: per connection a `rustls::ServerConnection` takes the socket's bytes
//! (`read_tls`, `process_new_packets`), hands the plaintext to the connection's [`Session`]
//! (the same as for plain HTTP), takes the session's output through its `writer()` and gives
//! back records for the socket (`write_tls`). Everything else is the plain path's: the turn,
//! the deadlines, the interests. A connection whose handshake is under way waits like one whose
//! request head has begun ([`Wait::RequestHead`]), so a stalled handshake is timed out by
//! [`Limits::request_head_timeout`](super::Limits::request_head_timeout); a TLS error closes that
//! connection only, after the alert that says why.
//!
//! [`Session`]: crate::http::Session
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::http::Wait;
use crate::log::{log_debug, log_error, log_info, Addr};

/// What a TLS listener serves with: the key, its certificate chain and, for mutual TLS, the
/// authorities client certificates must be signed by. Read once, when built; cheap to clone.
///
/// ```no_run
/// use prometheus_aioexporter::{Exporter, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("/etc/exporter/key.pem", "/etc/exporter/cert.pem", None)?;
/// let mut exporter = Exporter::new("my-exporter", "My exporter.");
/// exporter.set_tls(Some(tls));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A server checks the files again at most every [`reload_interval`](TlsConfig::reload_interval)
/// (5 s unless set), when a connection arrives: a renewed key and certificate (cert-manager,
/// certbot) serve the connections accepted after that. A renewal that cannot serve (a key that
/// does not match the certificate yet, a half-written file) is logged as an error and the old
/// pair keeps serving until the files change again.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ServerConfig>,
    files: Arc<Files>,
    /// The files as they were when read.
    stamp: Stamp,
    reload_interval: Option<Duration>,
}

/// The files a configuration was read from.
#[derive(Debug)]
struct Files {
    private_key: PathBuf,
    certificate_chain: PathBuf,
    client_ca: Option<PathBuf>,
}

/// What tells a file's versions apart, per file: inode, modification time, length (`None`
/// when it cannot be read).
type Stamp = Vec<Option<(u64, i64, i64, u64)>>;

impl Files {
    fn stamp(&self) -> Stamp {
        use std::os::unix::fs::MetadataExt as _;
        let paths = [Some(&self.private_key), Some(&self.certificate_chain)];
        paths
            .into_iter()
            .chain([self.client_ca.as_ref()])
            .flatten()
            .map(|path| {
                let meta = std::fs::metadata(path).ok()?;
                Some((meta.ino(), meta.mtime(), meta.mtime_nsec(), meta.len()))
            })
            .collect()
    }
}

/// How often the files are checked for a renewal unless [`TlsConfig::set_reload_interval`]
/// says otherwise.
const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("files", &self.files)
            .field("reload_interval", &self.reload_interval)
            .finish_non_exhaustive()
    }
}

/// A key or certificate file that cannot serve: which file, and what is wrong with it.
///
/// ```
/// use prometheus_aioexporter::TlsConfig;
///
/// let err = TlsConfig::from_pem_files("/nonexistent/key.pem", "/nonexistent/cert.pem", None)
///     .unwrap_err();
/// assert!(err.to_string().starts_with("/nonexistent/key.pem: cannot read it: "));
/// ```
#[derive(Debug)]
pub struct TlsError {
    path: PathBuf,
    problem: String,
    source: Option<io::Error>,
}

impl TlsError {
    fn new(path: &Path, problem: impl Into<String>) -> TlsError {
        TlsError {
            path: path.to_path_buf(),
            problem: problem.into(),
            source: None,
        }
    }

    /// The file at fault.
    ///
    /// ```
    /// use std::path::Path;
    /// use prometheus_aioexporter::TlsConfig;
    ///
    /// let err = TlsConfig::from_pem_files("/nonexistent/key.pem", "/nonexistent/cert.pem", None)
    ///     .unwrap_err();
    /// assert_eq!(err.path(), Path::new("/nonexistent/key.pem")); // the file to fix
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|err| TlsError {
        path: path.to_path_buf(),
        problem: format!("cannot read it: {err}"),
        source: Some(err),
    })
}

/// The certificates of a PEM file, at least one.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::new(path, format!("not a valid PEM {what}: {err}")))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            path,
            format!("no certificate in it: expected a PEM {what} (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    Ok(certs)
}

impl TlsConfig {
    /// Reads a private key (PKCS#8, PKCS#1 or SEC1, in PEM) and its certificate chain (PEM,
    /// the server's certificate first); with `client_ca`, clients must present a certificate
    /// signed by one of its certificates (mutual TLS). TLS 1.2 and 1.3 are served.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-tls-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    /// # let made = std::process::Command::new("openssl")
    /// #     .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    /// #     .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
    /// #     .arg(&key).arg("-out").arg(&cert).output()?;
    /// # assert!(made.status.success(), "openssl makes the example's certificate");
    /// use prometheus_aioexporter::TlsConfig;
    ///
    /// // `key` and `cert` are the paths of a PEM key and its certificate (chain).
    /// let tls = TlsConfig::from_pem_files(&key, &cert, None)?;
    /// assert!(!tls.requires_client_certificates());
    /// // With a CA file, clients must present a certificate it signed (mutual TLS).
    /// let mutual = TlsConfig::from_pem_files(&key, &cert, Some(cert.as_path()))?;
    /// assert!(mutual.requires_client_certificates());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`TlsError`] naming the file that cannot be read, holds no key or certificate, or
    /// whose key does not match the certificate.
    pub fn from_pem_files(
        private_key: impl AsRef<Path>,
        certificate_chain: impl AsRef<Path>,
        client_ca: Option<&Path>,
    ) -> Result<TlsConfig, TlsError> {
        let files = Files {
            private_key: private_key.as_ref().to_path_buf(),
            certificate_chain: certificate_chain.as_ref().to_path_buf(),
            client_ca: client_ca.map(Path::to_path_buf),
        };
        // Before reading: a change while they are read shows at the next check.
        let stamp = files.stamp();
        let config = server_config(&files)?;
        Ok(TlsConfig {
            config: Arc::new(config),
            files: Arc::new(files),
            stamp,
            reload_interval: Some(DEFAULT_RELOAD_INTERVAL),
        })
    }

    /// `true` if clients must present a certificate (mutual TLS).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-tls-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    /// # let made = std::process::Command::new("openssl")
    /// #     .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    /// #     .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
    /// #     .arg(&key).arg("-out").arg(&cert).output()?;
    /// # assert!(made.status.success(), "openssl makes the example's certificate");
    /// # let client_ca = cert.clone();
    /// use prometheus_aioexporter::TlsConfig;
    ///
    /// let tls = TlsConfig::from_pem_files(&key, &cert, Some(client_ca.as_path()))?;
    /// assert!(tls.requires_client_certificates());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn requires_client_certificates(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// How often, at most, the files are checked for a renewal; `None` if never.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-tls-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    /// # let made = std::process::Command::new("openssl")
    /// #     .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    /// #     .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
    /// #     .arg(&key).arg("-out").arg(&cert).output()?;
    /// # assert!(made.status.success(), "openssl makes the example's certificate");
    /// use std::time::Duration;
    /// use prometheus_aioexporter::TlsConfig;
    ///
    /// let tls = TlsConfig::from_pem_files(&key, &cert, None)?;
    /// assert_eq!(tls.reload_interval(), Some(Duration::from_secs(5)));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reload_interval(&self) -> Option<Duration> {
        self.reload_interval
    }

    /// Sets how often, at most, the files are checked for a renewal (when a connection
    /// arrives); `None` never checks them again.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("doc-tls-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    /// # let made = std::process::Command::new("openssl")
    /// #     .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    /// #     .args(["-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout"])
    /// #     .arg(&key).arg("-out").arg(&cert).output()?;
    /// # assert!(made.status.success(), "openssl makes the example's certificate");
    /// use std::time::Duration;
    /// use prometheus_aioexporter::TlsConfig;
    ///
    /// let mut tls = TlsConfig::from_pem_files(&key, &cert, None)?;
    /// tls.set_reload_interval(Some(Duration::from_secs(60))); // renewals are rare here
    /// assert_eq!(tls.reload_interval(), Some(Duration::from_secs(60)));
    /// tls.set_reload_interval(None); // never read the files again
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_reload_interval(&mut self, interval: Option<Duration>) -> &mut Self {
        self.reload_interval = interval;
        self
    }

    /// The configuration read again if its files changed since it was read: `Ok(None)` if they
    /// did not, `Err` with the stamp of the files that failed.
    fn reloaded(&self) -> Result<Option<TlsConfig>, (TlsError, Stamp)> {
        let stamp = self.files.stamp();
        if stamp == self.stamp {
            return Ok(None);
        }
        match server_config(&self.files) {
            Ok(config) => Ok(Some(TlsConfig {
                config: Arc::new(config),
                files: Arc::clone(&self.files),
                stamp,
                reload_interval: self.reload_interval,
            })),
            Err(err) => Err((err, stamp)),
        }
    }

    /// A new connection's TLS state.
    pub(super) fn accept(&self) -> Result<TlsConnection, rustls::Error> {
        Ok(TlsConnection {
            conn: ServerConnection::new(Arc::clone(&self.config))?,
            shutdown_pending: false,
            first_bytes_checked: false,
        })
    }
}

/// A server's TLS configuration and its renewals.
#[derive(Debug)]
pub(super) struct Tls {
    config: TlsConfig,
    /// When the files are checked next.
    next_check: Instant,
    /// The files as they were when a renewal failed: not read again until they change.
    failed: Option<Stamp>,
}

impl Tls {
    pub(super) fn new(config: TlsConfig) -> Tls {
        let next_check = Tls::after_interval(&config, Instant::now());
        Tls {
            config,
            next_check,
            failed: None,
        }
    }

    fn after_interval(config: &TlsConfig, now: Instant) -> Instant {
        config.reload_interval.map_or_else(
            || super::later(now, Duration::MAX),
            |i| super::later(now, i),
        )
    }

    /// The configuration for a connection accepted now, its files read again first if the
    /// interval has passed and they changed.
    pub(super) fn current(&mut self, now: Instant) -> &TlsConfig {
        if now >= self.next_check {
            self.next_check = Tls::after_interval(&self.config, now);
            match self.config.reloaded() {
                Ok(None) => {}
                Ok(Some(renewed)) => {
                    log_info!(
                        "TLS: serving the renewed {}",
                        renewed.files.certificate_chain.display()
                    );
                    self.config = renewed;
                    self.failed = None;
                }
                Err((err, stamp)) => {
                    if self.failed.as_ref() != Some(&stamp) {
                        log_error!(
                            "TLS: the renewed files cannot serve, keeping the old ones: {err}"
                        );
                        self.failed = Some(stamp);
                    }
                }
            }
        }
        &self.config
    }
}

/// A rustls configuration from the files.
fn server_config(files: &Files) -> Result<ServerConfig, TlsError> {
    let (key_path, chain_path) = (
        files.private_key.as_path(),
        files.certificate_chain.as_path(),
    );
    let client_ca = files.client_ca.as_deref();
    let key_pem = read_file(key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| {
        TlsError::new(
            key_path,
            format!("no usable private key in it: expected a PEM private key ({err})"),
        )
    })?;
    let chain = read_certificates(chain_path, "certificate chain")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|err| TlsError::new(chain_path, err.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca_path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certificates(ca_path, "CA certificate")? {
                roots.add(cert).map_err(|err| {
                    TlsError::new(ca_path, format!("not a usable CA certificate: {err}"))
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|err| TlsError::new(ca_path, err.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|err| {
        let problem = match err {
            rustls::Error::InconsistentKeys(_) => format!(
                "its key does not match the certificate in {} ({err})",
                chain_path.display()
            ),
            err => format!("cannot serve with this key: {err}"),
        };
        TlsError::new(key_path, problem)
    })?;
    // HTTP/1.1 only; no session tickets to rotate keys for (resumption by session id,
    // in memory, is rustls' default).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // rustls' order of cipher suites (AES-GCM, then ChaCha20), not the client's: a client
    // that prefers a weaker suite still gets a strong one (testssl's "cipher order" check).
    config.ignore_client_order = true;
    Ok(config)
}

/// One connection's TLS state.
pub(super) struct TlsConnection {
    pub(super) conn: ServerConnection,
    /// The session has finished: the socket's write side is shut once the TLS output (the
    /// `close_notify`) is out.
    pub(super) shutdown_pending: bool,
    /// The client's first bytes were looked at (plain HTTP is answered with a 400).
    pub(super) first_bytes_checked: bool,
}

impl TlsConnection {
    /// `true` while records wait to be written to the socket.
    pub(super) fn wants_write(&self) -> bool {
        self.conn.wants_write() || self.shutdown_pending
    }

    /// `true` until the handshake is done.
    pub(super) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// What the connection waits for, given what its session waits for: a handshake under
    /// way is a request head begun; records not yet sent are a response.
    pub(super) fn wait(&self, session: Wait) -> Wait {
        if self.is_handshaking() {
            Wait::RequestHead
        } else if session == Wait::Idle && self.conn.wants_write() {
            Wait::Response
        } else {
            session
        }
    }
}

/// What writing the pending records did.
pub(super) enum Flush {
    /// All written (that many bytes).
    Done(usize),
    /// The socket took no more (that many bytes were written).
    Blocked(usize),
    Failed,
}

pub(super) fn flush(tls: &mut TlsConnection, stream: &mut dyn io::Write) -> Flush {
    let mut written = 0;
    while tls.conn.wants_write() {
        match tls.conn.write_tls(stream) {
            Ok(0) => return Flush::Failed,
            Ok(n) => written += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Flush::Blocked(written),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Flush::Failed,
        }
    }
    Flush::Done(written)
}

/// What reading records from the socket did.
pub(super) enum Records {
    /// Some were read and processed: there may be plaintext, or records to answer.
    Read,
    Blocked,
    EndOfStream,
    Failed,
}

pub(super) fn read_records(
    tls: &mut TlsConnection,
    stream: &mut (impl io::Read + io::Write),
    conn_peer: Addr,
) -> Records {
    loop {
        match tls.conn.read_tls(stream) {
            Ok(0) => return Records::EndOfStream,
            Ok(_) => {
                return match tls.conn.process_new_packets() {
                    Ok(_) => Records::Read,
                    Err(err) => {
                        log_debug!("TLS error with {conn_peer}: {err}");
                        // The alert that says why, if the socket takes it.
                        let _ = tls.conn.write_tls(stream);
                        Records::Failed
                    }
                };
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Records::Blocked,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                log_debug!("TLS read from {conn_peer} failed: {err}");
                return Records::Failed;
            }
        }
    }
}

/// What Go's server answers to plain HTTP on a TLS port.
pub(super) const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// `true` if a connection's first bytes are a plain HTTP request's (a method and a space, or
/// the start of one), not a TLS record's (which starts with 0x16, a handshake).
pub(super) fn looks_like_plain_http(first: &[u8]) -> bool {
    !first.is_empty()
        && first
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b == b' ' || b == b'/')
}

/// What `--healthcheck` connects with to an exporter serving HTTPS: it trusts exactly the
/// certificate the exporter serves (the first of `certificate_chain`), whatever its name or
/// issuer, and presents the exporter's own pair as its client certificate when `mutual`
/// (which passes only if that certificate is also good for client authentication).
///
/// # Errors
/// As [`TlsConfig::from_pem_files`].
#[cfg(feature = "script")]
pub(crate) fn self_check_client(
    private_key: &Path,
    certificate_chain: &Path,
    mutual: bool,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let chain = read_certificates(certificate_chain, "certificate chain")?;
    let expected = chain
        .first()
        .cloned()
        .ok_or_else(|| TlsError::new(certificate_chain, "no certificate in it"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = SameCertificate {
        expected,
        algorithms: provider.signature_verification_algorithms,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|err| TlsError::new(certificate_chain, err.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = if mutual {
        let key_pem = read_file(private_key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| {
            TlsError::new(private_key, format!("no usable private key in it ({err})"))
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|err| TlsError::new(private_key, err.to_string()))?
    } else {
        builder.with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Trusts one certificate, as the exporter's own check of itself: the certificate it was
/// told to serve, checked byte for byte, with the handshake's signatures verified.
#[cfg(feature = "script")]
#[derive(Debug)]
struct SameCertificate {
    expected: CertificateDer<'static>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

#[cfg(feature = "script")]
impl rustls::client::danger::ServerCertVerifier for SameCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the exporter serves another certificate than --ssl-public-key's".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_told_from_a_client_hello() {
        for plain in [&b"GET "[..], b"HEAD", b"POST", b"G"] {
            assert!(looks_like_plain_http(plain), "{plain:?}");
        }
        for tls in [&[0x16u8, 0x03, 0x01, 0x02][..], b"", b"\x80\x2e\x01\x03"] {
            assert!(!looks_like_plain_http(tls), "{tls:?}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = TlsConfig::from_pem_files("/nonexistent/key.pem", "/nonexistent/cert.pem", None)
            .unwrap_err();
        assert_eq!(err.path(), Path::new("/nonexistent/key.pem"));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/key.pem: cannot read it:"),
            "{err}"
        );
    }
}
