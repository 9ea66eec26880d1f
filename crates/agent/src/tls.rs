//! TLS for every agent's brokers, with rustls: the reference's `x509`
//! credential (`cert`, `key`, `pass`, `ca`, `ca_file`, the `X509_*` environment defaults) and
//! the common `SSL_*` socket options of IO::Socket::SSL mapped onto rustls.
//!
//! Unlike the reference (which leaves `SSL_verify_mode` to IO::Socket::SSL's defaults), the
//! server certificate and its host name are always verified unless `SSL_verify_mode=0` says
//! otherwise, and SNI is sent.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

/// Why a TLS setting or file cannot be used; paths are named.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A key the `x509` credential does not know.
    #[error("unexpected {0:?} in the x509 credential (cert, key, pass, ca, ca_file)")]
    X509Key(String),
    /// No certificate given.
    #[error("the x509 credential needs cert=FILE (or X509_USER_CERT in the environment)")]
    X509NoCert,
    /// `SSL_verify_mode` is not a number.
    #[error("SSL_verify_mode: {0:?} is not a number")]
    VerifyMode(String),
    /// rustls refused the protocol versions.
    #[error("TLS set-up")]
    Setup(#[source] rustls::Error),
    /// A file or directory cannot be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{}: no certificate in it", .0.display())]
    NoCertificate(PathBuf),
    /// A PEM file that cannot be parsed.
    #[error("{}: bad PEM certificate", .path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A CA certificate rustls refuses.
    #[error("{}: bad CA certificate", .path.display())]
    BadCa {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// No system trust anchors and none given.
    #[error(
        "no CA certificates: give ca=DIR or ca_file=FILE (x509), SSL_ca_path/SSL_ca_file, or X509_CERT_DIR"
    )]
    NoSystemCa,
    /// The given CA files hold no certificate.
    #[error("no CA certificate found in the given ca/ca_file")]
    NoCaFound,
    /// The certificate and key do not go together (or rustls refuses them).
    #[error("{}", .path.display())]
    ClientCert {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// A key in the legacy OpenSSL encryption, which nothing here decrypts.
    #[error(
        "{0}: legacy OpenSSL-encrypted key; convert it to PKCS#8 with 'openssl pkcs8 -topk8 -in {0} -out NEW.pem'"
    )]
    LegacyKey(String),
    /// An encrypted key without its pass phrase.
    #[error("{}: the key is encrypted and no pass= (or SSL_passwd) was given", .0.display())]
    NoPass(PathBuf),
    /// An encrypted PKCS#8 key that cannot be parsed.
    #[error("{}: bad encrypted key", .path.display())]
    BadEncryptedKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Decryption failed.
    #[error("{}: cannot decrypt the key (wrong pass?)", .path.display())]
    Decrypt {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: pkcs8::Error,
    },
    /// No private key in the file.
    #[error("{}: no usable private key", .path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
}

/// What the TLS side of a connection needs, gathered from `-auth x509 …`, `-sockopts` and
/// the environment before anything is read from disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// Client certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1; PKCS#8 may be encrypted).
    pub key: Option<PathBuf>,
    /// Pass phrase of an encrypted key.
    pub pass: Option<String>,
    /// Directory of CA certificates (every PEM certificate in it is trusted).
    pub ca_dir: Option<PathBuf>,
    /// File of CA certificates.
    pub ca_file: Option<PathBuf>,
    /// `false` only with `SSL_verify_mode=0`: the server is not authenticated.
    pub no_verify: bool,
    /// Name to verify and send as SNI instead of the URI's host.
    pub server_name: Option<String>,
    /// Set when an `SSL_*` socket option asked for TLS whatever the URI says.
    pub forced: bool,
}

impl TlsSettings {
    /// Applies one `x509` credential's `KEY=VALUE` pairs, with the `X509_*` environment
    /// variables as defaults for what the credential leaves out.
    pub fn x509(&mut self, pairs: &[(String, String)]) -> Result<(), TlsError> {
        for (k, v) in pairs {
            match k.as_str() {
                "cert" => self.cert = Some(v.into()),
                "key" => self.key = Some(v.into()),
                "pass" => self.pass = Some(v.clone()),
                "ca" => self.ca_dir = Some(v.into()),
                "ca_file" => self.ca_file = Some(v.into()),
                _ => return Err(TlsError::X509Key(k.clone())),
            }
        }
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if self.cert.is_none() {
            self.cert = env("X509_USER_CERT").map(PathBuf::from);
        }
        if self.key.is_none() {
            self.key = env("X509_USER_KEY").map(PathBuf::from);
        }
        if self.cert.is_none() {
            return Err(TlsError::X509NoCert);
        }
        Ok(())
    }

    /// Applies one IO::Socket option. Returns a warning for options that have no meaning
    /// here (they are ignored, as the reference's socket would ignore unknown ones).
    pub fn sockopt(&mut self, key: &str, value: &str) -> Result<Option<String>, TlsError> {
        if key.starts_with("SSL_") {
            self.forced = true;
        }
        let flag = |v: &str| !matches!(v.trim(), "" | "0" | "false" | "no" | "off");
        match key {
            "SSL_ca_path" => self.ca_dir = Some(value.into()),
            "SSL_ca_file" => self.ca_file = Some(value.into()),
            "SSL_cert_file" => self.cert = Some(value.into()),
            "SSL_key_file" => self.key = Some(value.into()),
            "SSL_passwd" | "SSL_passwd_cb" => self.pass = Some(value.into()),
            "SSL_verify_mode" => {
                // IO::Socket::SSL: 0 SSL_VERIFY_NONE, 1 SSL_VERIFY_PEER (and 2, 4 flags)
                let mode: u32 = value
                    .trim()
                    .strip_prefix("0x")
                    .map_or_else(|| value.trim().parse(), |h| u32::from_str_radix(h, 16))
                    .map_err(|_| TlsError::VerifyMode(value.to_string()))?;
                self.no_verify = mode & 1 == 0;
            }
            "SSL_verifycn_name" | "SSL_hostname" => self.server_name = Some(value.into()),
            "SSL_use_cert" | "SSL_use_SNI" | "SSL_verifycn_scheme" | "SSL_check_crl" => {
                // implied: a cert is used when given, SNI is always sent, the host name is
                // always checked (RFC 6125), CRLs are not fetched
                let _ = flag(value);
            }
            "SSL_version" | "SSL_cipher_list" | "SSL_honor_cipher_order" | "SSL_ecdh_curve" => {
                return Ok(Some(format!(
                    "{key} ignored: rustls offers only TLS 1.2 and 1.3 with its safe cipher suites"
                )));
            }
            k if k.starts_with("SSL_") => {
                return Ok(Some(format!("{k} is not supported here and is ignored")));
            }
            k => {
                return Ok(Some(format!(
                    "socket option {k} is not supported here and is ignored"
                )));
            }
        }
        Ok(None)
    }

    /// Reads the certificates and key and builds the connector.
    pub fn build(&self) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Setup)?;
        let builder = if self.no_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            builder.with_root_certificates(self.roots()?)
        };
        let config = match &self.cert {
            Some(cert) => {
                let chain = certificates(cert)?;
                if chain.is_empty() {
                    return Err(TlsError::NoCertificate(cert.clone()));
                }
                let key_path = self.key.as_deref().unwrap_or(cert);
                if let Some(w) = crate::secret::warning(key_path, "the TLS key") {
                    crate::log::warn(format_args!("{w}"));
                }
                let key = private_key(key_path, self.pass.as_deref())?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|source| TlsError::ClientCert {
                        path: key_path.to_path_buf(),
                        source,
                    })?
            }
            None => builder.with_no_client_auth(),
        };
        let config = Arc::new(config);
        Ok(Tls {
            connector: TlsConnector::from(config.clone()),
            config,
            server_name: self.server_name.clone(),
        })
    }

    /// The trust anchors: `ca`/`ca_file` (or `X509_CERT_DIR`/`X509_CERT_FILE`), else the
    /// system's.
    fn roots(&self) -> Result<rustls::RootCertStore, TlsError> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let (dir, file) = if self.ca_dir.is_some() || self.ca_file.is_some() {
            (self.ca_dir.clone(), self.ca_file.clone())
        } else {
            (env("X509_CERT_DIR"), env("X509_CERT_FILE"))
        };
        let mut roots = rustls::RootCertStore::empty();
        if let Some(f) = &file {
            for c in certificates(f)? {
                roots.add(c).map_err(|source| TlsError::BadCa {
                    path: f.clone(),
                    source,
                })?;
            }
        }
        if let Some(d) = &dir {
            let read = |source| TlsError::Read {
                path: d.clone(),
                source,
            };
            for entry in std::fs::read_dir(d).map_err(read)? {
                let path = entry.map_err(read)?.path();
                // grid CA directories mix certificates with .signing_policy, .crl_url, …
                let Ok(text) = std::fs::read(&path) else {
                    continue;
                };
                if !text
                    .windows(27)
                    .any(|w| w == b"-----BEGIN CERTIFICATE-----")
                {
                    continue;
                }
                for c in CertificateDer::pem_slice_iter(&text).flatten() {
                    // a broken file among hundreds must not stop the others
                    let _ = roots.add(c);
                }
            }
        }
        if dir.is_none() && file.is_none() {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsError::NoSystemCa);
            }
        }
        if roots.is_empty() {
            return Err(TlsError::NoCaFound);
        }
        Ok(roots)
    }
}

/// A server's TLS configuration (an endpoint an agent serves: amsclt's push endpoint): its
/// certificate chain and key (PEM; the key unencrypted, kept safe by its file's mode), no
/// client certificates asked for.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates(cert)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key_der = private_key(key, None)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|source| TlsError::ClientCert {
            path: key.to_path_buf(),
            source,
        })?;
    Ok(Arc::new(config))
}

/// A ready TLS client configuration.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    config: Arc<rustls::ClientConfig>,
    server_name: Option<String>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// The rustls configuration, for a client library that runs its own handshake (AMQP
    /// and MQTT clients take a `ClientConfig`).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }

    /// The name the server's certificate must carry: the configured one, else the URI's
    /// `host`.
    pub fn server_name<'a>(&'a self, host: &'a str) -> &'a str {
        self.server_name.as_deref().unwrap_or(host)
    }

    /// Runs the handshake on a connected socket; `host` is the URI's host, verified against
    /// the certificate unless a name was configured.
    pub async fn handshake(
        &self,
        host: &str,
        stream: tokio::net::TcpStream,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_string()).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{name:?} is not a valid TLS server name: {e}"),
            )
        })?;
        self.connector.connect(name, stream).await
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::BadPem {
            path: path.to_path_buf(),
            source,
        })
}

fn private_key(path: &Path, pass: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = read(path)?;
    if text.windows(18).any(|w| w == b"Proc-Type: 4,ENCRY") {
        return Err(TlsError::LegacyKey(path.display().to_string()));
    }
    let bad = |source: Box<dyn std::error::Error + Send + Sync>| TlsError::BadEncryptedKey {
        path: path.to_path_buf(),
        source,
    };
    if let Some(start) = find(&text, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let end = find(&text[start..], b"-----END ENCRYPTED PRIVATE KEY-----")
            .map(|e| start + e + 35)
            .ok_or_else(|| bad("unterminated".into()))?;
        let pass = pass.ok_or_else(|| TlsError::NoPass(path.to_path_buf()))?;
        let (_, der) = pkcs8::der::pem::decode_vec(&text[start..end])
            .map_err(|e| bad(e.to_string().into()))?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| bad(e.to_string().into()))?;
        let doc = info.decrypt(pass).map_err(|source| TlsError::Decrypt {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            doc.as_bytes().to_vec(),
        )));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|source| TlsError::NoKey {
        path: path.to_path_buf(),
        source,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `SSL_verify_mode=0`: accept any server certificate (signatures are still checked so that
/// the handshake itself is sound).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockopts_map() {
        let mut t = TlsSettings::default();
        let none = |r: Result<Option<String>, TlsError>| matches!(r, Ok(None));
        assert!(none(
            t.sockopt("SSL_ca_path", "/etc/grid-security/certificates")
        ));
        assert!(t.forced);
        assert!(none(t.sockopt("SSL_verify_mode", "0")));
        assert!(t.no_verify);
        assert!(none(t.sockopt("SSL_verify_mode", "0x01")));
        assert!(!t.no_verify);
        assert!(t.sockopt("SSL_version", "TLSv1").expect("ok").is_some());
        assert!(t.sockopt("SSL_verify_mode", "peer").is_err());
        let mut plain = TlsSettings::default();
        assert!(plain.sockopt("Timeout", "5").expect("ok").is_some());
        assert!(!plain.forced);
    }

    #[test]
    fn x509_needs_a_cert() {
        let mut t = TlsSettings::default();
        let e = t.x509(&[("key".into(), "k.pem".into())]);
        if std::env::var_os("X509_USER_CERT").is_none() {
            assert!(e.expect_err("no cert").to_string().contains("cert=FILE"));
        }
        assert!(t.x509(&[("bogus".into(), "1".into())]).is_err());
    }

    #[test]
    fn missing_files_are_named() {
        let t = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        let e = t.build().expect_err("missing");
        assert!(matches!(e, TlsError::Read { .. }), "{e}");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
