//! Encrypted backups: the backup's zip, whole and unchanged, inside an age file
//! (<https://age-encryption.org/v1>). age encrypts in chunks of 64 KiB, each authenticated,
//! so a sealed file is written and read as a stream (memory flat in its size), read with
//! seeks as the zip reader needs, and a changed byte anywhere fails the chunk that holds
//! it before any of its bytes reach the reader.
//!
//! The server's keys ([`Keys`]) are age X25519 keys: recipients (`age1…`), to which every new
//! backup is sealed, and identities (`AGE-SECRET-KEY-1…`, from the identity file), which
//! open them. Secret keys are never shown: [`Keys`] prints only the public ones.
//!
//! A backup may instead be sealed with a [`Passphrase`] given when it is made; it is asked
//! for again to open it. age allows a passphrase only alone, so such a backup is sealed to
//! it and to nothing else. A passphrase lives in the memory of the request or job that
//! uses it, nowhere else.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use age_core::format::{FileKey, Stanza};

use crate::validate::{PASSPHRASE_MAX, PASSPHRASE_MIN};

use super::{ArchiveError, invalid};

/// How every age file begins.
pub const MAGIC: &[u8] = b"age-encryption.org/v1\n";

/// The file name extension of a sealed backup, after `.zip`.
pub const EXTENSION: &str = ".age";

/// A passphrase given for one backup. It is never printed: its `Debug` says only that
/// there is one.
#[derive(Clone)]
pub struct Passphrase(SecretString);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

impl Passphrase {
    /// A passphrase to open a backup with.
    ///
    /// # Errors
    ///
    /// A message for an empty passphrase or one longer than [`PASSPHRASE_MAX`].
    pub fn given(text: String) -> Result<Self, String> {
        if text.is_empty() {
            return Err("Enter the backup's passphrase.".into());
        }
        if text.chars().count() > PASSPHRASE_MAX {
            return Err(format!(
                "A passphrase has at most {PASSPHRASE_MAX} characters."
            ));
        }
        Ok(Passphrase(SecretString::from(text)))
    }

    /// A passphrase to seal a new backup with: as [`Passphrase::given`], and at least
    /// [`PASSPHRASE_MIN`] characters.
    ///
    /// # Errors
    ///
    /// As [`Passphrase::given`], and a message for one that is too short.
    pub fn chosen(text: String) -> Result<Self, String> {
        if text.chars().count() < PASSPHRASE_MIN {
            return Err(format!(
                "A backup's passphrase needs at least {PASSPHRASE_MIN} characters; a few words are easier to remember than symbols."
            ));
        }
        Passphrase::given(text)
    }
}

/// A passphrase as an age identity that remembers the file key it opened: the zip reader
/// opens a file more than once, and each opening would otherwise cost the passphrase's
/// whole work factor (about a second) again. The key is kept only for the same stanza
/// (salt, work factor and wrapped key), so it opens nothing the passphrase would not.
struct Unlocking {
    identity: age::scrypt::Identity,
    passphrase: Passphrase,
    opened: Mutex<Option<(Stanza, FileKey)>>,
}

impl Unlocking {
    fn new(passphrase: Passphrase) -> Self {
        Unlocking {
            identity: age::scrypt::Identity::new(passphrase.0.clone()),
            passphrase,
            opened: Mutex::new(None),
        }
    }
}

impl age::Identity for Unlocking {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        let copy = |key: &FileKey| FileKey::new(Box::new(*key.expose_secret()));
        let same = |kept: &Stanza| {
            kept.tag == stanza.tag && kept.args == stanza.args && kept.body == stanza.body
        };
        if let Ok(opened) = self.opened.lock()
            && let Some((kept, key)) = opened.as_ref()
            && same(kept)
        {
            return Some(Ok(copy(key)));
        }
        let unwrapped = self.identity.unwrap_stanza(stanza)?;
        if let (Ok(key), Ok(mut opened)) = (&unwrapped, self.opened.lock()) {
            let kept = Stanza {
                tag: stanza.tag.clone(),
                args: stanza.args.clone(),
                body: stanza.body.clone(),
            };
            *opened = Some((kept, copy(key)));
        }
        Some(unwrapped)
    }
}

/// The keys of this server: those new backups are sealed to, and those that open them;
/// for one backup, the passphrase given for it too.
#[derive(Clone, Default)]
pub struct Keys {
    recipients: Vec<x25519::Recipient>,
    identities: Vec<x25519::Identity>,
    passphrase: Option<Arc<Unlocking>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("recipients", &self.recipients())
            .field("identities", &self.opened_by())
            .field("passphrase", &self.passphrase.is_some())
            .finish()
    }
}

impl Keys {
    /// Keys from the recipients given (`age1…`) and the text of an identity file (one
    /// `AGE-SECRET-KEY-1…` a line; blank lines and `#` comments are skipped).
    ///
    /// # Errors
    ///
    /// A message naming the recipient or the line that is not a key, never the key itself.
    pub fn new(recipients: &[String], identities: Option<&str>) -> Result<Self, String> {
        let recipients = recipients
            .iter()
            .map(|text| {
                x25519::Recipient::from_str(text.trim()).map_err(|_| {
                    format!(
                        "`{}` is not an age recipient: a recipient is a public key that starts with `age1` (made with `age-keygen`).",
                        text.trim()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut keys = Vec::new();
        for (number, line) in identities.unwrap_or_default().lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = x25519::Identity::from_str(line).map_err(|_| {
                format!(
                    "line {} of the identity file is not an age secret key (`AGE-SECRET-KEY-1…`, as `age-keygen` writes it).",
                    number + 1
                )
            })?;
            keys.push(identity);
        }
        if identities.is_some() && keys.is_empty() {
            return Err("the identity file holds no age secret key (`AGE-SECRET-KEY-1…`).".into());
        }
        Ok(Keys {
            recipients,
            identities: keys,
            passphrase: None,
        })
    }

    /// These keys, and `passphrase` when there is one: a new backup is then sealed with it
    /// (and to nothing else), and a backup sealed with it is opened.
    pub fn with_passphrase(&self, passphrase: Option<Passphrase>) -> Keys {
        match passphrase {
            Some(passphrase) => Keys {
                passphrase: Some(Arc::new(Unlocking::new(passphrase))),
                ..self.clone()
            },
            None => self.clone(),
        }
    }

    /// As [`Keys::new`], the identities read from the file at `identity_file`.
    ///
    /// # Errors
    ///
    /// As [`Keys::new`], and a message naming a file that cannot be read.
    pub fn load(recipients: &[String], identity_file: Option<&Path>) -> Result<Self, String> {
        let text = identity_file
            .map(|path| {
                std::fs::read_to_string(path).map_err(|error| {
                    format!(
                        "the identity file {} cannot be read: {error}",
                        path.display()
                    )
                })
            })
            .transpose()?;
        Keys::new(recipients, text.as_deref())
    }

    /// Whether a passphrase was given.
    pub fn has_passphrase(&self) -> bool {
        self.passphrase.is_some()
    }

    /// Whether new backups are sealed.
    pub fn seals(&self) -> bool {
        self.passphrase.is_some() || !self.recipients.is_empty()
    }

    /// How new backups are encrypted: with the passphrase, or to the recipients; `None`
    /// when they are not.
    pub fn encryption(&self) -> Option<crate::types::Encryption> {
        if self.passphrase.is_some() {
            return Some(crate::types::Encryption::Passphrase);
        }
        self.seals().then(|| crate::types::Encryption::Keys {
            recipients: self.recipients(),
        })
    }

    /// The recipients new backups are sealed to, as `age1…`.
    pub fn recipients(&self) -> Vec<String> {
        self.recipients.iter().map(ToString::to_string).collect()
    }

    /// The recipients whose backups these keys open, as `age1…`.
    pub fn opened_by(&self) -> Vec<String> {
        self.identities
            .iter()
            .map(|identity| identity.to_public().to_string())
            .collect()
    }

    /// Whether these keys open a backup sealed to `recipients`.
    pub fn open(&self, recipients: &[String]) -> bool {
        let mine = self.opened_by();
        recipients.iter().any(|recipient| mine.contains(recipient))
    }
}

/// Whether the file at `path` is sealed (begins as an age file does).
///
/// # Errors
///
/// When the file cannot be read.
pub fn is_sealed(path: &Path) -> io::Result<bool> {
    let mut start = [0u8; MAGIC.len()];
    let mut file = File::open(path)?;
    let mut read = 0;
    while read < start.len() {
        match file.read(&mut start[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read == start.len() && start == MAGIC)
}

/// Seals the zip at `plain` into a new file at `sealed`, with the passphrase of `keys` when
/// there is one, else to every recipient of `keys`, streaming; the new file is synced to disk
/// before this returns.
///
/// # Errors
///
/// When a file cannot be read or written, or `keys` has neither.
pub fn seal(plain: &Path, sealed: &Path, keys: &Keys) -> io::Result<()> {
    let encryptor = match &keys.passphrase {
        Some(unlocking) => age::Encryptor::with_user_passphrase(unlocking.passphrase.0.clone()),
        None => {
            let recipients = keys
                .recipients
                .iter()
                .map(|recipient| recipient as &dyn age::Recipient);
            age::Encryptor::with_recipients(recipients).map_err(|error| {
                io::Error::other(format!("no key to seal the backup to: {error}"))
            })?
        }
    };
    let out = File::create(sealed)?;
    let mut writer = encryptor.wrap_output(BufWriter::new(out))?;
    io::copy(&mut BufReader::new(File::open(plain)?), &mut writer)?;
    let out = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
    out.sync_all()
}

/// How the file at `path` is encrypted, once [`open`] has opened it with `keys`: not at
/// all, with a passphrase, or to the recipients (`age1…`) of those of `keys` that open it.
///
/// # Errors
///
/// [`ArchiveError::Locked`] when none of `keys` opens it, as [`open`] says it.
pub fn encryption_of(
    path: &Path,
    keys: &Keys,
) -> Result<Option<crate::types::Encryption>, ArchiveError> {
    if !is_sealed(path)? {
        return Ok(None);
    }
    if read_header(path)?.is_scrypt() {
        return Ok(Some(crate::types::Encryption::Passphrase));
    }
    let mut opening = Vec::new();
    for identity in &keys.identities {
        let decryptor = read_header(path)?;
        if decryptor
            .decrypt(std::iter::once(identity as &dyn age::Identity))
            .is_ok()
        {
            opening.push(identity.to_public().to_string());
        }
    }
    if opening.is_empty() {
        return Err(ArchiveError::Locked(NOT_MINE.into()));
    }
    Ok(Some(crate::types::Encryption::Keys {
        recipients: opening,
    }))
}

/// The age reader of the sealed file at `path`, its header read.
fn read_header(path: &Path) -> Result<age::Decryptor<BufReader<File>>, ArchiveError> {
    age::Decryptor::new(BufReader::new(File::open(path)?)).map_err(|error| {
        invalid(format!(
            "The encrypted backup is damaged: its age header cannot be read ({error})."
        ))
    })
}

/// Why a sealed file that the server's keys do not open is refused.
const NOT_MINE: &str = "This backup is encrypted to a key this server does not hold: start the server with `--backup-identity FILE` naming a file with the secret key it was encrypted to.";

/// Why a file sealed with a passphrase is refused when none was given.
pub const PASSPHRASE_NEEDED: &str =
    "This backup is encrypted with a passphrase: enter its passphrase to use it.";

/// Why a file sealed with a passphrase is refused when the one given does not open it.
pub const PASSPHRASE_WRONG: &str =
    "The passphrase does not open this backup: check it (it is case-sensitive) and try again.";

/// Something the zip reader can read and seek in.
pub(super) trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// The zip inside the file at `path` as a reader, and its length: the file itself when it
/// is a plain zip, its plaintext (decrypted as it is read) when it is sealed.
///
/// # Errors
///
/// [`ArchiveError::Invalid`] for a sealed file that `keys` cannot open (saying which key it
/// needs) or whose header is damaged; [`ArchiveError::Io`] when it cannot be read.
pub(super) fn open(path: &Path, keys: &Keys) -> Result<(Box<dyn ReadSeek>, u64), ArchiveError> {
    if !is_sealed(path)? {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        return Ok((Box::new(file), length));
    }
    let decryptor = read_header(path)?;
    let reader = if decryptor.is_scrypt() {
        let Some(unlocking) = &keys.passphrase else {
            return Err(ArchiveError::Locked(PASSPHRASE_NEEDED.into()));
        };
        decryptor
            .decrypt(std::iter::once(unlocking.as_ref() as &dyn age::Identity))
            .map_err(|error| match error {
                age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                    ArchiveError::Locked(PASSPHRASE_WRONG.into())
                }
                age::DecryptError::ExcessiveWork { .. } => invalid(
                    "This backup's passphrase was sealed with far more work than this server allows (a damaged or hostile file); it is refused.",
                ),
                other => invalid(format!(
                    "The encrypted backup cannot be opened: its header is damaged or was changed ({other})."
                )),
            })?
    } else {
        let identities = keys
            .identities
            .iter()
            .map(|identity| identity as &dyn age::Identity);
        decryptor.decrypt(identities).map_err(|error| match error {
            age::DecryptError::NoMatchingKeys => ArchiveError::Locked(NOT_MINE.into()),
            other => invalid(format!(
                "The encrypted backup cannot be opened: its header is damaged or was changed ({other})."
            )),
        })?
    };
    let mut reader = Authenticated(reader);
    let length = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    Ok((Box::new(reader), length))
}

/// A sealed file's plaintext, whose failures say what they mean: a chunk that fails its
/// authentication is a file that was damaged or changed.
struct Authenticated<R>(age::stream::StreamReader<R>);

impl<R> Authenticated<R> {
    fn explained(error: io::Error) -> io::Error {
        if error.kind() == io::ErrorKind::InvalidData {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the encrypted file is damaged or was changed: a part of it fails its authentication",
            )
        } else {
            error
        }
    }
}

impl<R: Read + Seek> Read for Authenticated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(Self::explained)
    }
}

impl<R: Read + Seek> Seek for Authenticated<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos).map_err(Self::explained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_what_is_wrong_and_never_print_a_secret() {
        let identity = x25519::Identity::generate();
        let secret = {
            use age::secrecy::ExposeSecret;
            identity.to_string().expose_secret().to_string()
        };
        let public = identity.to_public().to_string();
        let keys = Keys::new(
            std::slice::from_ref(&public),
            Some(&format!("# made for a test\n\n{secret}\n")),
        )
        .expect("keys");
        assert!(keys.seals());
        assert!(keys.open(std::slice::from_ref(&public)));
        assert!(!keys.open(&["age1other".to_string()]));
        let shown = format!("{keys:?}");
        assert!(
            shown.contains(&public) && !shown.contains(&secret),
            "{shown}"
        );

        let refused = Keys::new(&["age1nope".into()], None).expect_err("not a key");
        assert!(
            refused.contains("`age1nope` is not an age recipient"),
            "{refused}"
        );
        let refused = Keys::new(&[], Some(&format!("{secret}\nAGE-SECRET-KEY-1BROKEN\n")))
            .expect_err("line 2");
        assert!(refused.contains("line 2"), "{refused}");
        assert!(!refused.contains(&secret), "{refused}");
        let refused = Keys::new(&[], Some("# nothing\n")).expect_err("empty");
        assert!(refused.contains("no age secret key"), "{refused}");
    }
}
