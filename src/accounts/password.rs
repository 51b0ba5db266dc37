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

/// Passwords refused whatever their length: the factory one and the first guesses of any
/// attacker.
const COMMON_PASSWORDS: &[&str] = &[
    "admin",
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "11111111",
    "88888888",
    "00000000",
    "admin123",
    "admin1234",
    "admin@123",
    "administrator",
    "password1",
    "qwertyui",
    "qwerty123",
    "abc12345",
    "abcd1234",
    "iloveyou",
    "coocenter",
    "zycoo123",
    "changeme",
    "root1234",
    "passw0rd",
    "1q2w3e4r",
    "a1234567",
];

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
                "新密码不能与用户名相同。",
                "The new password must not be the user name.",
            ),
            PolicyViolation::Common => Text::fixed(
                "新密码过于常见，容易被猜到，请换一个。",
                "The new password is too common and easy to guess; choose another.",
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

/// Checks a new password against the policy (reuse is checked by the caller against the
/// stored hashes).
pub fn check_policy(username: &str, candidate: &str) -> Result<(), PolicyViolation> {
    let length = candidate.chars().count();
    if length < MIN_LENGTH {
        return Err(PolicyViolation::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(PolicyViolation::TooLong);
    }
    let lowered = candidate.to_lowercase();
    if lowered == username.to_lowercase() {
        return Err(PolicyViolation::SameAsUsername);
    }
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(PolicyViolation::Common);
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
    Ok(())
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
        assert_eq!(check_policy("admin", "a1!"), Err(PolicyViolation::TooShort));
        assert_eq!(
            check_policy("admin", &"a1".repeat(65)),
            Err(PolicyViolation::TooLong)
        );
        assert_eq!(
            check_policy("operator1", "Operator1"),
            Err(PolicyViolation::SameAsUsername)
        );
        assert_eq!(
            check_policy("admin", "Admin123"),
            Err(PolicyViolation::Common)
        );
        assert_eq!(
            check_policy("admin", "abcdefghij"),
            Err(PolicyViolation::TooSimple)
        );
        assert_eq!(
            check_policy("admin", "1234512345"),
            Err(PolicyViolation::TooSimple)
        );
        assert_eq!(check_policy("admin", "correct horse"), Ok(()));
        assert_eq!(check_policy("admin", "坐席密码2026"), Ok(()));
    }
}
