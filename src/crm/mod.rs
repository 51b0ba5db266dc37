//! The CRM's configuration: the custom table's attribute definitions (自定义表, manual §9.3)
//! with their validation, and 删除数据 (manual §9.2), the confirmed clearing of customer
//! information, operation logs, outbound plans and service records. Calls only the store;
//! the http layer maps [`CrmError`] to answers.

pub mod deletion;
pub mod fields;

use crate::i18n::Text;
use crate::store::StoreError;

/// Why a CRM request was refused. Each refusal carries a stable code and a message in both
/// languages; field refusals name the request field.
#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// A field is missing or wrong.
    #[error("{field}: {code}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        text: Text,
    },
    /// The value is already used by another entry (a duplicate attribute name).
    #[error("{field}: {code}")]
    Taken {
        field: &'static str,
        code: &'static str,
        text: Text,
    },
    #[error("not found")]
    NotFound(Text),
    /// The number of rows to delete is no longer the one the user confirmed.
    #[error("count changed to {current}")]
    CountChanged { current: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CrmError {
    pub(crate) fn invalid(field: &'static str, code: &'static str, zh: String, en: String) -> Self {
        CrmError::Invalid {
            field,
            code,
            text: Text::owned(zh, en),
        }
    }
}
