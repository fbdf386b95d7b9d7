//! TLS to the department store: used whenever the server offers it (the
//! connection string's `sslmode`: `prefer`, the default, or `require`;
//! `disable` turns it off), and always verified. The server's certificate
//! must chain to the operating system's trusted roots or to the CA bundle
//! `OVERREAD_STORE_CA_FILE` names, and name the host connected to: audit
//! rows carry patient identifiers, so an unverified server is refused
//! rather than trusted.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::{Error, Result};

/// The most bytes a CA bundle may hold.
const MAX_CA_BYTES: u64 = 1 << 20;

/// The operating system's trusted roots, read once (unreadable ones leave
/// the store to the CA bundle).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// A refused certificate said so, with the fix; other errors as they are.
pub(crate) fn explain(e: Error) -> Error {
    match e {
        Error::Unreachable { message }
            if message.contains("certificate") || message.contains("Certificate") =>
        {
            Error::Config {
                message: format!(
                    "the server's TLS certificate is not trusted ({message}); give its CA bundle in OVERREAD_STORE_CA_FILE"
                ),
            }
        }
        other => other,
    }
}

/// The client configuration: the system's roots, and the CA bundle at
/// `ca_file` when given.
pub(crate) fn config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system_roots().iter().cloned());
    if let Some(file) = ca_file {
        let fail = |why: String| Error::Config {
            message: format!("the CA bundle {}: {why}", file.display()),
        };
        let meta = std::fs::metadata(file).map_err(|e| fail(e.to_string()))?;
        if meta.len() > MAX_CA_BYTES {
            return Err(fail(format!("larger than {MAX_CA_BYTES} bytes")));
        }
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
            .map_err(|e| fail(e.to_string()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?;
        if certs.is_empty() {
            return Err(fail("it holds no certificate".into()));
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(fail("none of its certificates can be used".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config {
            message: format!("TLS: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Makes a verified TLS connection for each connection tokio-postgres opens.
#[derive(Clone)]
pub(crate) struct MakeTls(pub(crate) Arc<rustls::ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Tls<S>;
    type TlsConnect = Connect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> io::Result<Connect> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Connect {
            config: self.0.clone(),
            name,
        })
    }
}

/// One TLS handshake, to one host.
pub(crate) struct Connect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Tls<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Tls<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let connector = tokio_rustls::TlsConnector::from(self.config);
            let stream = connector.connect(self.name, stream).await?;
            Ok(Tls(stream))
        })
    }
}

/// A TLS stream to the store.
pub(crate) struct Tls<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Tls<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Tls<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Tls<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding: the certificate check above is
        // what binds the connection to the server.
        ChannelBinding::none()
    }
}
