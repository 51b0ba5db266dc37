//! 隐藏电话号码: the one rule for hiding customers' numbers from ordinary agents.
//!
//! When the call-flow setting is on, every response meant for an ordinary agent hides the
//! middle four digits of a number longer than six digits (`13812345678` → `138****5678`);
//! administrators and team leaders always see full numbers. Every agent-facing handler
//! passes numbers through [`Viewer::show`], so there is no second place to forget.

/// Who a response is for, as far as number masking is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Admin,
    Leader,
    /// An ordinary agent; `hide_numbers` is the 隐藏电话号码 setting at the time of the request.
    Agent {
        hide_numbers: bool,
    },
}

impl Viewer {
    /// The number as this viewer may see it.
    pub fn show(self, number: &str) -> String {
        match self {
            Viewer::Agent { hide_numbers: true } => mask_number(number),
            _ => number.to_string(),
        }
    }

    pub fn masks(self) -> bool {
        matches!(self, Viewer::Agent { hide_numbers: true })
    }
}

/// Hides the middle four digits of a number with more than six digits. Characters other than
/// digits (`+`, spaces, dashes) are kept where they are and do not count; a short number
/// (an extension, `110`) is left alone because it identifies nobody.
pub fn mask_number(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits <= 6 {
        return number.to_string();
    }
    // The four digits centred in the number (the left-leaning middle for odd spare counts).
    let first_hidden = (digits - 4) / 2;
    let mut seen = 0;
    number
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            let index = seen;
            seen += 1;
            if (first_hidden..first_hidden + 4).contains(&index) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// The 隐藏电话号码 flag from the stored call-flow settings (`call_flow` JSON document,
/// field `hide_numbers`); absent or unreadable means off.
pub fn hide_numbers_from_settings(call_flow_json: Option<&str>) -> bool {
    call_flow_json
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|doc| doc.get("hide_numbers").and_then(|v| v.as_bool()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_number_loses_its_middle_four_digits() {
        assert_eq!(mask_number("13812345678"), "138****5678");
    }

    #[test]
    fn lengths_around_the_threshold() {
        assert_eq!(mask_number("123456"), "123456", "six digits are kept");
        assert_eq!(mask_number("1234567"), "1****67", "seven: the middle four");
        assert_eq!(mask_number("12345678"), "12****78");
        assert_eq!(mask_number("02161234567"), "021****4567");
        assert_eq!(
            mask_number("8001"),
            "8001",
            "an extension is not a customer"
        );
        assert_eq!(mask_number(""), "");
    }

    #[test]
    fn separators_stay_and_do_not_count() {
        assert_eq!(mask_number("+86 138-1234-5678"), "+86 13*-***4-5678");
        assert_eq!(mask_number("anonymous"), "anonymous");
    }

    #[test]
    fn only_ordinary_agents_with_the_setting_on_see_masks() {
        let n = "13812345678";
        assert_eq!(Viewer::Admin.show(n), n);
        assert_eq!(Viewer::Leader.show(n), n);
        assert_eq!(
            Viewer::Agent {
                hide_numbers: false
            }
            .show(n),
            n
        );
        assert_eq!(Viewer::Agent { hide_numbers: true }.show(n), "138****5678");
    }

    #[test]
    fn the_flag_is_read_from_the_call_flow_document() {
        assert!(hide_numbers_from_settings(Some(
            r#"{"hide_numbers": true}"#
        )));
        assert!(!hide_numbers_from_settings(Some(
            r#"{"hide_numbers": false}"#
        )));
        assert!(!hide_numbers_from_settings(Some(r#"{"survey": true}"#)));
        assert!(!hide_numbers_from_settings(Some("not json")));
        assert!(!hide_numbers_from_settings(None));
    }
}
