//! HTTPS: the certificate and key given by `--cert`/`--key`/`--pwd`, read once at start-up into
//! a rustls server configuration. Like Azurite, two forms: a PEM certificate with a PEM key, or
//! a PKCS#12 (PFX) file with its password. The form is told by the content, not the extension.
//! Every error names the file and what is wrong with it, so that `lapis` can refuse to start.
//! TLS ends in `conn.rs`; the handlers only learn the scheme (`conn::Scheme`).

use std::path::Path;
use std::sync::Arc;

use p12_keystore::Pkcs12Archive;
use rustls::server::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A server configuration ready for every TLS listener (cheap to clone).
#[derive(Clone)]
pub struct TlsConfig(pub(crate) Arc<ServerConfig>);

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

/// A certificate chain (leaf first) and its private key.
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

impl TlsConfig {
    /// Reads the flags' files. `cert` is PEM (then `key` is required) or PKCS#12 (then `pwd`
    /// is, `""` for a file without a password).
    pub fn load(cert: &Path, key: Option<&Path>, pwd: Option<&str>) -> Result<TlsConfig, String> {
        let cert_bytes = read(cert, "--cert")?;
        let (chain, private_key) = if is_pem(&cert_bytes) {
            if pwd.is_some() {
                return Err(format!(
                    "--cert {}: a PEM certificate takes --key, not --pwd (--pwd is the password \
                     of a PKCS#12/PFX file; encrypted PEM keys are not supported)",
                    cert.display()
                ));
            }
            let Some(key) = key else {
                return Err(format!(
                    "--cert {} is a PEM certificate: give its private key with --key",
                    cert.display()
                ));
            };
            let key_bytes = read(key, "--key")?;
            (pem_chain(cert, &cert_bytes)?, pem_key(key, &key_bytes)?)
        } else {
            if let Some(key) = key {
                return Err(format!(
                    "--cert {} is not PEM, so it is read as a PKCS#12/PFX file, which holds its \
                     own key: drop --key {} and give the file's password with --pwd",
                    cert.display(),
                    key.display()
                ));
            }
            let Some(pwd) = pwd else {
                return Err(format!(
                    "--cert {} is not PEM, so it is read as a PKCS#12/PFX file: give its \
                     password with --pwd (--pwd \"\" if it has none)",
                    cert.display()
                ));
            };
            pkcs12(cert, &cert_bytes, pwd)?
        };
        let key_file = key.unwrap_or(cert);
        // ring, for a light build (aws-lc-rs needs cmake and a C toolchain of its own); rustls
        // deprecates it for lacking post-quantum key exchange, which a local emulator can do
        // without.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => format!(
                    "the private key in {} does not match the certificate in {}",
                    key_file.display(),
                    cert.display()
                ),
                rustls::Error::InvalidCertificate(e) => {
                    format!("the certificate in {} is not valid: {e}", cert.display())
                }
                e => format!(
                    "cannot use the certificate {} with the key {}: {e}",
                    cert.display(),
                    key_file.display()
                ),
            })?;
        // HTTP/1.1 only, as on plain http (the metadata-name spelling in conn.rs reads HTTP/1
        // header lines).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig(Arc::new(config)))
    }
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{flag} {}: cannot read it: {e}", path.display()))
}

/// PEM is text with `-----BEGIN ` sections; a PKCS#12 file is DER (binary).
fn is_pem(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"-----BEGIN ").is_some()
}

fn pem_chain(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--cert {}: not readable as PEM: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--cert {}: no certificate in it (no -----BEGIN CERTIFICATE----- section)",
            path.display()
        ));
    }
    Ok(chain)
}

fn pem_key(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(key) => Ok(key),
        Err(rustls_pki_types::pem::Error::NoItemsFound) => {
            let encrypted = memchr::memmem::find(bytes, b"ENCRYPTED").is_some();
            Err(if encrypted {
                format!(
                    "--key {}: the key is encrypted, which Lapis does not support; decrypt it \
                     with `openssl pkey -in {0} -out key.pem`",
                    path.display()
                )
            } else {
                format!(
                    "--key {}: no private key in it (no -----BEGIN PRIVATE KEY-----, RSA PRIVATE \
                     KEY or EC PRIVATE KEY section)",
                    path.display()
                )
            })
        }
        Err(e) => Err(format!(
            "--key {}: not readable as PEM: {e}",
            path.display()
        )),
    }
}

/// The key of a PKCS#12 file and its certificate chain: the leaf is the certificate that shares
/// the key's `localKeyId` (as openssl, Windows and mkcert write them), else the first one; the
/// other certificates follow it.
fn pkcs12(path: &Path, bytes: &[u8], password: &str) -> Result<Identity, String> {
    let archive = Pkcs12Archive::from_pkcs12(bytes, password).map_err(|e| {
        use p12_keystore::error::Error as E;
        match e {
            E::MacError(_) | E::UnpadError | E::Pkcs5Error(_) => format!(
                "--cert {}: wrong password for this PKCS#12/PFX file (--pwd), or the file is \
                 damaged",
                path.display()
            ),
            E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => format!(
                "--cert {}: this PKCS#12/PFX file is encrypted with a scheme Lapis cannot \
                 read ({e}); export it again with AES or 3DES",
                path.display()
            ),
            e => format!(
                "--cert {}: neither PEM nor a readable PKCS#12/PFX file ({e})",
                path.display()
            ),
        }
    })?;
    let Some(key) = archive.keys.into_iter().next() else {
        return Err(format!(
            "--cert {}: no private key in this PKCS#12/PFX file",
            path.display()
        ));
    };
    let mut certs = archive.certs;
    if certs.is_empty() {
        return Err(format!(
            "--cert {}: no certificate in this PKCS#12/PFX file",
            path.display()
        ));
    }
    let leaf = key
        .local_key_id
        .as_ref()
        .and_then(|id| {
            certs
                .iter()
                .position(|c| c.local_key_id.as_deref() == Some(id.0.as_slice()))
        })
        .unwrap_or(0);
    let leaf = certs.remove(leaf);
    let chain = std::iter::once(leaf)
        .chain(certs)
        .map(|c| CertificateDer::from(c.cert.as_der().to_vec()))
        .collect();
    // PKCS#12 keeps keys as PKCS#8.
    let key = PrivatePkcs8KeyDer::from(key.key.as_der().to_vec()).into();
    Ok((chain, key))
}
