//! Encryption at rest. A master key (from the caller or `FACEPRINT_KEY`) wraps one random data
//! key per subject; the subject's templates are sealed with that data key. AES-256-GCM with a
//! fresh random 96-bit nonce every time; associated data binds each ciphertext to where it
//! belongs, so a blob copied elsewhere does not open.
//!
//! Deleting a subject deletes its wrapped data key: its templates can no longer be decrypted by
//! anyone, including from a copy of the template rows.

use crate::error::{Error, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// A 256-bit master key. Its [`id`](MasterKey::id) (a hash prefix, not the key) is stored with
/// every record it protects.
#[derive(Clone)]
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let digest = Sha256::new()
            .chain_update(b"faceprint key id v1\0")
            .chain_update(bytes)
            .finalize();
        MasterKey {
            key: Zeroizing::new(bytes),
            id: crate::models::hex(&digest[..8]),
        }
    }

    /// Parses a base64 (standard or URL-safe) encoding of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let t = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(t))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
            .map_err(|e| Error::InvalidArgument(format!("key is not base64: {e}")))?;
        let bytes = Zeroizing::new(bytes);
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            Error::InvalidArgument(format!("a key must be 32 bytes, got {}", bytes.len()))
        })?;
        Ok(MasterKey::from_bytes(arr))
    }

    /// The key in `FACEPRINT_KEY` (base64 of 32 bytes).
    pub fn from_env() -> Result<MasterKey> {
        let v = std::env::var("FACEPRINT_KEY").map_err(|_| {
            Error::InvalidArgument("FACEPRINT_KEY is not set (base64 of 32 random bytes)".into())
        })?;
        MasterKey::from_base64(&v)
    }

    /// A new random key.
    pub fn generate() -> MasterKey {
        let mut b = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut b);
        MasterKey::from_bytes(b)
    }

    /// The key as base64 (what `FACEPRINT_KEY` holds).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(*self.key)
    }

    /// A short fingerprint of the key (not the key), stored beside the data to tell keys apart.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }

    /// Seals application data (a server's session state, a document image) under a fresh data
    /// key wrapped by this key. `context` names what it is and whose (associated data), so a
    /// blob moved to another record does not open.
    pub fn seal_blob(&self, plaintext: &[u8], context: &[&str]) -> Result<Vec<u8>> {
        let ad = aad(context);
        let key = DataKey::generate();
        let wrapped = wrap(self, &key, &ad)?;
        let mut out = Vec::with_capacity(2 + wrapped.len() + plaintext.len() + NONCE_LEN + 16);
        out.extend_from_slice(&(wrapped.len() as u16).to_le_bytes());
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&seal(&key.cipher(), plaintext, &ad)?);
        Ok(out)
    }

    /// Opens a [`MasterKey::seal_blob`] blob sealed with the same `context`.
    pub fn open_blob(&self, blob: &[u8], context: &[&str]) -> Result<Zeroizing<Vec<u8>>> {
        let ad = aad(context);
        let n = blob
            .get(..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
            .ok_or_else(|| Error::Decrypt("sealed blob is truncated".into()))?;
        let wrapped = blob
            .get(2..2 + n)
            .ok_or_else(|| Error::Decrypt("sealed blob is truncated".into()))?;
        let key = unwrap(self, wrapped, &ad)?;
        open(&key.cipher(), &blob[2 + n..], &ad, "sealed blob")
    }
}

/// A subject's data key (plaintext only in memory, zeroed on drop).
#[derive(Clone)]
pub(crate) struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn generate() -> DataKey {
        let mut b = Zeroizing::new([0u8; 32]);
        rand::thread_rng().fill_bytes(&mut *b);
        DataKey(b)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.0).into())
    }
}

/// Associated data: length-prefixed parts, so ("ab","c") and ("a","bc") differ.
pub(crate) fn aad(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    aad_into(&mut out, parts);
    out
}

/// [`aad`] into a buffer the caller reuses (no allocation per template when loading many).
pub(crate) fn aad_into(out: &mut Vec<u8>, parts: &[&str]) {
    out.clear();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p.as_bytes());
    }
}

fn seal(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Internal("AES-GCM encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(cipher: &Aes256Gcm, blob: &[u8], aad: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>> {
    if blob.len() < NONCE_LEN + 16 {
        return Err(Error::Decrypt(format!(
            "{what}: ciphertext is truncated ({} bytes)",
            blob.len()
        )));
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| {
            Error::Decrypt(format!(
                "{what}: authentication failed (wrong key, or data moved or altered)"
            ))
        })
}

/// (nonce, ciphertext, tag) of a sealed blob, for decrypting in place.
fn split_sealed<'a>(blob: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8], &'a [u8])> {
    if blob.len() < NONCE_LEN + 16 {
        return Err(Error::Decrypt(format!(
            "{what}: ciphertext is truncated ({} bytes)",
            blob.len()
        )));
    }
    let (nonce, rest) = blob.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - 16);
    Ok((nonce, ct, tag))
}

/// Wraps a data key under the master key; `aad` names the subject it belongs to.
pub(crate) fn wrap(master: &MasterKey, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>> {
    seal(&master.cipher(), &*key.0, aad)
}

/// Unwraps in place (no allocation: a million subjects are unwrapped when a large collection
/// loads).
pub(crate) fn unwrap(master: &MasterKey, blob: &[u8], aad: &[u8]) -> Result<DataKey> {
    use aes_gcm::aead::AeadInPlace;
    let (nonce, ct, tag) = split_sealed(blob, "subject key")?;
    let mut key = DataKey(Zeroizing::new([0u8; 32]));
    if ct.len() != key.0.len() {
        return Err(Error::StoreCorrupt(
            "a wrapped subject key is not 32 bytes".into(),
        ));
    }
    key.0.copy_from_slice(ct);
    master
        .cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            &mut key.0[..],
            aes_gcm::Tag::from_slice(tag),
        )
        .map_err(|_| {
            Error::Decrypt(
                "subject key: authentication failed (wrong key, or data moved or altered)".into(),
            )
        })?;
    Ok(key)
}

/// Encrypts a vector (little-endian f32s) under a subject's data key.
pub(crate) fn seal_vector(key: &DataKey, vector: &[f32], aad: &[u8]) -> Result<Vec<u8>> {
    let bytes: Zeroizing<Vec<u8>> =
        Zeroizing::new(vector.iter().flat_map(|v| v.to_le_bytes()).collect());
    seal(&key.cipher(), &bytes, aad)
}

pub(crate) fn open_vector(key: &DataKey, blob: &[u8], aad: &[u8], dim: usize) -> Result<Vec<f32>> {
    let plain = open(&key.cipher(), blob, aad, "template")?;
    if plain.len() != dim * 4 {
        return Err(Error::StoreCorrupt(format!(
            "template holds {} bytes, its dimension {dim} needs {}",
            plain.len(),
            dim * 4
        )));
    }
    Ok(plain
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Encrypts bytes under a data key (an index snapshot).
pub(crate) fn seal_bytes(key: &DataKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    seal(&key.cipher(), plaintext, aad)
}

pub(crate) fn open_bytes(key: &DataKey, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    open(&key.cipher(), blob, aad, "index snapshot")
}

/// Decrypts a template into `out` (its dimension) without allocating: the plaintext passes
/// through `scratch`, which is zeroed afterwards. For loading millions of templates at once.
pub(crate) fn open_vector_into(
    key: &DataKey,
    blob: &[u8],
    aad: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut [f32],
) -> Result<()> {
    use aes_gcm::aead::AeadInPlace;
    let (nonce, ct, tag) = split_sealed(blob, "template")?;
    if ct.len() != out.len() * 4 {
        return Err(Error::StoreCorrupt(format!(
            "template holds {} bytes, its dimension {} needs {}",
            ct.len(),
            out.len(),
            out.len() * 4
        )));
    }
    scratch.clear();
    scratch.extend_from_slice(ct);
    let opened = key.cipher().decrypt_in_place_detached(
        Nonce::from_slice(nonce),
        aad,
        scratch,
        aes_gcm::Tag::from_slice(tag),
    );
    let result = match opened {
        Ok(()) => {
            for (o, c) in out.iter_mut().zip(scratch.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
            Ok(())
        }
        Err(_) => Err(Error::Decrypt(
            "template: authentication failed (wrong key, or data moved or altered)".into(),
        )),
    };
    zeroize::Zeroize::zeroize(scratch.as_mut_slice());
    result
}

/// A known plaintext sealed under the master key, stored once: opening the store with another
/// key fails at once with [`Error::WrongKey`] instead of on the first template.
pub(crate) fn key_check(master: &MasterKey) -> Result<Vec<u8>> {
    seal(
        &master.cipher(),
        b"faceprint key check v1",
        &aad(&["key-check", master.id()]),
    )
}

pub(crate) fn verify_key_check(master: &MasterKey, blob: &[u8]) -> Result<()> {
    match open(
        &master.cipher(),
        blob,
        &aad(&["key-check", master.id()]),
        "key check",
    ) {
        Ok(p) if p.as_slice() == b"faceprint key check v1" => Ok(()),
        _ => Err(Error::WrongKey(format!(
            "key {} was not the store's key",
            master.id()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn blobs_open_only_with_their_key_and_context() {
        let k = MasterKey::generate();
        let blob = k
            .seal_blob(b"session state", &["frame_session", "s1"])
            .unwrap();
        assert_eq!(
            &**k.open_blob(&blob, &["frame_session", "s1"]).unwrap(),
            b"session state"
        );
        assert!(k.open_blob(&blob, &["frame_session", "s2"]).is_err());
        assert!(MasterKey::generate()
            .open_blob(&blob, &["frame_session", "s1"])
            .is_err());
        assert!(k
            .open_blob(&blob[..blob.len() - 1], &["frame_session", "s1"])
            .is_err());
        assert!(k.open_blob(&blob[..1], &["frame_session", "s1"]).is_err());
        let mut flipped = blob.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(k.open_blob(&flipped, &["frame_session", "s1"]).is_err());
    }

    #[test]
    fn vectors_round_trip_and_bind_to_their_place() {
        let k = DataKey::generate();
        let v = vec![0.25f32, -1.5, 3.0];
        let here = aad(&["c", "alice", "t1", "m"]);
        let blob = seal_vector(&k, &v, &here).unwrap();
        assert_eq!(open_vector(&k, &blob, &here, 3).unwrap(), v);
        let elsewhere = aad(&["c", "bob", "t1", "m"]);
        assert_eq!(
            open_vector(&k, &blob, &elsewhere, 3).unwrap_err().code(),
            ErrorCode::Decrypt
        );
        let other = DataKey::generate();
        assert_eq!(
            open_vector(&other, &blob, &here, 3).unwrap_err().code(),
            ErrorCode::Decrypt
        );
        assert_eq!(
            open_vector(&k, &blob[..20], &here, 3).unwrap_err().code(),
            ErrorCode::Decrypt
        );
        assert_eq!(
            open_vector(&k, &blob, &here, 4).unwrap_err().code(),
            ErrorCode::StoreCorrupt
        );
        // Fresh nonce each time: the same vector never gives the same ciphertext.
        assert_ne!(blob, seal_vector(&k, &v, &here).unwrap());
    }

    #[test]
    fn keys_wrap_and_the_key_check_tells_wrong_keys() {
        let m = MasterKey::generate();
        let d = DataKey::generate();
        let a = aad(&["subject", "c", "alice"]);
        let w = wrap(&m, &d, &a).unwrap();
        assert_eq!(*unwrap(&m, &w, &a).unwrap().0, *d.0);
        let other = MasterKey::generate();
        assert_eq!(
            unwrap(&other, &w, &a).unwrap_err().code(),
            ErrorCode::Decrypt
        );
        let check = key_check(&m).unwrap();
        verify_key_check(&m, &check).unwrap();
        assert_eq!(
            verify_key_check(&other, &check).unwrap_err().code(),
            ErrorCode::WrongKey
        );
    }

    #[test]
    fn base64_keys_must_be_32_bytes() {
        let k = MasterKey::generate();
        let back = MasterKey::from_base64(&k.to_base64()).unwrap();
        assert_eq!(back.id(), k.id());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
