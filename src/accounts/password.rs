//! Password hashing (argon2id, PHC strings) and the password policy.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::i18n::Text;

/// Shortest and longest password accepted.
pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// The 30,000 most common passwords (zxcvbn's list, from Mark Burnett's 10 million) and the
/// most common in Chinese leaks, lower-case, one per line, gzip'd into the binary
/// (`scripts/common-passwords` regenerates it). 130 kB in the binary, nothing resident: a
/// check streams through it (a few milliseconds, once per password change).
const COMMON_PASSWORDS_GZ: &[u8] = include_bytes!("common-passwords.txt.gz");

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort,
    TooLong,
    SameAsUsername,
    Common,
    TooSimple,
    Reused,
}

impl PolicyViolation {
    pub fn text(self) -> Text {
        match self {
            PolicyViolation::TooShort => Text::fixed(
                "新密码至少需要 8 个字符。",
                "The new password must have at least 8 characters.",
            ),
            PolicyViolation::TooLong => Text::fixed(
                "新密码不能超过 128 个字符。",
                "The new password must not be longer than 128 characters.",
            ),
            PolicyViolation::SameAsUsername => Text::fixed(
                "新密码不能包含用户名（工号或分机号）。",
                "The new password must not contain the user name (job number or extension).",
            ),
            PolicyViolation::Common => Text::fixed(
                "新密码过于常见（常用密码加数字、符号或字母替换也算），容易被猜到，请换一个。",
                "The new password is too common (a common password with digits, symbols or look-alike letters counts too) and easy to guess; choose another.",
            ),
            PolicyViolation::TooSimple => Text::fixed(
                "新密码需包含字母、数字、符号中的至少两类。",
                "The new password must mix at least two of letters, digits and symbols.",
            ),
            PolicyViolation::Reused => Text::fixed(
                "新密码不能与当前或最近使用过的密码相同。",
                "The new password must differ from the current and recently used ones.",
            ),
        }
    }
}

/// The rules, as the UI states them (`pw.rules` in the web UI's messages says the same):
/// 8 to 128 characters; at least two of letters, digits and symbols; not containing a login
/// name of the account; not a common password, nor one dressed up (`P@ssw0rd`, `Passw0rd!`,
/// `admin12345`, `Admin-admin`). The same rules hold for the administrator and for agents,
/// whose extension password is also their console password.
///
/// `login_names` are the names the account logs in with (the admin's user name; an agent's
/// job number and extension). Reuse is checked by the caller against the stored hashes.
pub fn check_policy(login_names: &[&str], candidate: &str) -> Result<(), PolicyViolation> {
    let length = candidate.chars().count();
    if length < MIN_LENGTH {
        return Err(PolicyViolation::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PolicyViolation::TooLong);
    }
    let lowered = candidate.to_lowercase();
    if login_names
        .iter()
        .map(|name| name.trim().to_lowercase())
        .any(|name| !name.is_empty() && lowered.contains(&name))
    {
        return Err(PolicyViolation::SameAsUsername);
    }
    let letters = candidate.chars().any(char::is_alphabetic);
    let digits = candidate.chars().any(|c| c.is_ascii_digit());
    let symbols = candidate.chars().any(|c| !c.is_alphanumeric());
    if [letters, digits, symbols]
        .iter()
        .filter(|&&class| class)
        .count()
        < 2
    {
        return Err(PolicyViolation::TooSimple);
    }
    if is_common(&guessable_forms(&lowered)) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

/// The forms an attacker's list would try for `lowered`: itself, with look-alike characters
/// read back as letters (`p@ssw0rd`), without the digits and symbols around it
/// (`admin12345`, `passw0rd!`), and the unit of a repetition (`admin-admin`).
fn guessable_forms(lowered: &str) -> Vec<String> {
    fn unleet(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '@' | '4' => 'a',
                '0' => 'o',
                '1' | '!' => 'i',
                '3' => 'e',
                '$' | '5' => 's',
                '7' | '+' => 't',
                other => other,
            })
            .collect()
    }
    fn core(text: &str) -> String {
        text.trim_matches(|c: char| !c.is_alphabetic()).to_string()
    }
    fn repeated_unit(text: &str) -> Option<String> {
        let alnum: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
        (1..=alnum.len() / 2)
            .filter(|unit| alnum.len() % unit == 0)
            .find(|&unit| alnum.chunks(unit).all(|chunk| chunk == &alnum[..unit]))
            .map(|unit| alnum[..unit].iter().collect())
    }
    let mut forms = vec![
        lowered.to_string(),
        unleet(lowered),
        core(lowered),
        core(&unleet(lowered)),
        unleet(&core(lowered)),
    ];
    let units: Vec<String> = forms.iter().filter_map(|f| repeated_unit(f)).collect();
    forms.extend(units);
    forms.retain(|form| form.chars().count() >= 4);
    forms.sort();
    forms.dedup();
    forms
}

/// Whether any of `forms` is on the common-password list.
fn is_common(forms: &[String]) -> bool {
    use std::io::BufRead;
    if forms.is_empty() {
        return false;
    }
    let list = std::io::BufReader::new(flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ));
    list.lines()
        .map_while(Result::ok)
        .any(|entry| forms.contains(&entry))
}

/// argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): strong, and small enough for the
/// appliance's memory when hashes run one at a time.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(given: &str, stored: &str) -> bool {
    use sha2::{Digest, Sha256};
    // Hashing first makes the comparison length-independent too.
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(stored.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A real hash of a random password, verified against when the username is unknown so that
/// a failed login costs the same time whether or not the user exists.
pub fn unknown_user_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hash(&hex::encode(random)).expect("hashing a random password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify_round_trip() {
        let stored = hash("Coo-center-2026!").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("Coo-center-2026!", &stored));
        assert!(!verify("coo-center-2026!", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn policy_refusals() {
        let admin = &["admin"][..];
        assert_eq!(check_policy(admin, "a1!"), Err(PolicyViolation::TooShort));
        assert_eq!(
            check_policy(admin, &"a1".repeat(65)),
            Err(PolicyViolation::TooLong)
        );
        assert_eq!(
            check_policy(&["operator1"], "Operator1"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            check_policy(admin, "abcdefghij"),
            Err(PolicyViolation::TooSimple)
        );
        assert_eq!(
            check_policy(admin, "1234512345"),
            Err(PolicyViolation::TooSimple)
        );
        assert_eq!(check_policy(admin, "correct horse"), Ok(()));
        assert_eq!(check_policy(admin, "坐席密码2026"), Ok(()));
    }

    #[test]
    fn common_passwords_and_their_disguises_are_refused() {
        let admin = &["admin"][..];
        for weak in [
            "Password1",
            "qwerty123",
            "P@ssw0rd",
            "Passw0rd!",
            "Dragon#2026",
            "woaini1314",
            "1qaz@WSX",
        ] {
            assert_eq!(
                check_policy(admin, weak),
                Err(PolicyViolation::Common),
                "{weak}"
            );
        }
        for with_name in ["admin12345", "Admin-admin", "Admin123", "myadmin!9"] {
            assert_eq!(
                check_policy(admin, with_name),
                Err(PolicyViolation::SameAsUsername),
                "{with_name}"
            );
        }
        // An agent's login names are its job number and its extension.
        let agent = &["8002", "1002"][..];
        assert_eq!(check_policy(agent, "12"), Err(PolicyViolation::TooShort));
        assert_eq!(
            check_policy(agent, "kefu-8002"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            check_policy(agent, "demo1002"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(check_policy(agent, "ext-pass-1"), Ok(()));
        assert_eq!(check_policy(agent, "Lemon-Tree-42"), Ok(()));
    }

    #[test]
    fn the_list_is_large_and_streams_from_the_binary() {
        use std::io::BufRead;
        let list = std::io::BufReader::new(flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ));
        let entries: Vec<String> = list.lines().map(Result::unwrap).collect();
        assert!(entries.len() > 30_000, "{} entries", entries.len());
        assert!(entries
            .iter()
            .all(|e| e.chars().count() >= 4 && *e == e.to_lowercase()));
        assert!(
            COMMON_PASSWORDS_GZ.len() < 200_000,
            "compressed in the binary"
        );
    }
}
