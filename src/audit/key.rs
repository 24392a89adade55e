//! The bundle signing key: an Ed25519 key kept as PKCS#8 PEM in a file only
//! its owner may read (mode 0600), created on first use.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::AuditError;

/// The signing key and where it lives. `Debug` never shows the key.
pub struct SigningKeyFile {
    pub path: PathBuf,
    key: SigningKey,
    /// True when this call made the file.
    pub created: bool,
}

impl std::fmt::Debug for SigningKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyFile")
            .field("path", &self.path)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// The default key file: next to the database, named after it.
pub fn default_path(db_file: &Path) -> PathBuf {
    let name = db_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hvinv.db".into());
    db_file.with_file_name(format!("{name}.audit-key.pem"))
}

impl SigningKeyFile {
    /// Loads the key at `path`, or creates it (mode 0600) when there is
    /// none. A key file that others can read or write is refused.
    pub fn load_or_create(path: &Path) -> Result<SigningKeyFile, AuditError> {
        match Self::load(path) {
            Err(AuditError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Self::create(path)
            }
            other => other,
        }
    }

    pub fn load(path: &Path) -> Result<SigningKeyFile, AuditError> {
        let meta = std::fs::metadata(path).map_err(|e| AuditError::io(path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AuditError::KeyNotPrivate {
                path: path.display().to_string(),
                mode,
            });
        }
        let pem =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| AuditError::io(path, e))?);
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|source| AuditError::KeyFormat {
            path: path.display().to_string(),
            source,
        })?;
        Ok(SigningKeyFile {
            path: path.to_path_buf(),
            key,
            created: false,
        })
    }

    fn create(path: &Path) -> Result<SigningKeyFile, AuditError> {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| AuditError::Randomness(e.to_string()))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        let pem = key.to_pkcs8_pem(LineEnding::LF)?;
        // create_new: never overwrite a key another process just made.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| AuditError::io(path, e))?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| AuditError::io(path, e))?;
        Ok(SigningKeyFile {
            path: path.to_path_buf(),
            key,
            created: true,
        })
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as SubjectPublicKeyInfo PEM.
    pub fn public_key_pem(&self) -> Result<String, AuditError> {
        Ok(self.verifying_key().to_public_key_pem(LineEnding::LF)?)
    }
}

/// SHA-256 of the public key's SubjectPublicKeyInfo DER, lowercase hex: the
/// same as `openssl pkey -pubin -in public_key.pem -outform DER | sha256sum`.
pub fn fingerprint(key: &VerifyingKey) -> Result<String, AuditError> {
    let der = key.to_public_key_der()?;
    Ok(hex::encode(Sha256::digest(der.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let a = SigningKeyFile::load_or_create(&path).unwrap();
        assert!(a.created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = SigningKeyFile::load_or_create(&path).unwrap();
        assert!(!b.created);
        assert_eq!(a.verifying_key(), b.verifying_key());
        let pem = a.public_key_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert_eq!(fingerprint(&a.verifying_key()).unwrap().len(), 64);
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        SigningKeyFile::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SigningKeyFile::load_or_create(&path).unwrap_err();
        assert!(
            matches!(e, AuditError::KeyNotPrivate { mode: 0o644, .. }),
            "{e}"
        );
        // Refused, not replaced.
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn a_file_that_is_not_a_key_is_an_error_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "secret-looking text").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = SigningKeyFile::load(&path).unwrap_err();
        assert!(matches!(e, AuditError::KeyFormat { .. }), "{e}");
        assert!(!e.to_string().contains("secret-looking"));
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKeyFile::load_or_create(&dir.path().join("k.pem")).unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains("SigningKey {"), "{shown}");
    }

    #[test]
    fn default_path_is_next_to_the_database() {
        assert_eq!(
            default_path(Path::new("/var/lib/hvinv/hvinv.db")),
            PathBuf::from("/var/lib/hvinv/hvinv.db.audit-key.pem")
        );
    }
}
