//! The custom table's attributes (manual §9.3): 属性名, 类型, 属性值, 优先级, 备注, 显示.
//! Validation is here so that every refusal names its field: an empty or duplicate name, an
//! unknown type, options missing for 单选/多项/选择 or given for the other types, an empty or
//! repeated option, a priority out of range, a remark too long.

use std::collections::HashSet;

use super::CrmError;
use crate::i18n::Text;
use crate::store::custom_fields::{self, CustomField, FieldValues};
use crate::store::Store;

/// The attribute types, by code, with the manual's names.
pub const KINDS: &[(&str, &str, &str)] = &[
    ("input", "输入", "Input"),
    ("radio", "单选", "Single choice"),
    ("checkbox", "多项", "Multiple choice"),
    ("select", "选择", "Drop-down"),
    ("date", "日期", "Date"),
    ("time", "时间", "Time"),
    ("text", "文本", "Text"),
];

/// The types whose values are picked from the attribute's options.
pub fn has_options(kind: &str) -> bool {
    matches!(kind, "radio" | "checkbox" | "select")
}

pub const MAX_NAME_CHARS: usize = 32;
pub const MAX_OPTION_CHARS: usize = 50;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_REMARK_CHARS: usize = 200;
pub const MAX_PRIORITY: i64 = 9999;

/// An attribute as the user sent it.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub kind: String,
    pub options: Vec<String>,
    pub priority: i64,
    pub remark: String,
    pub visible: bool,
}

/// A checked attribute, ready to store (names and options trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidField {
    pub name: String,
    pub kind: String,
    pub options: Vec<String>,
    pub priority: i64,
    pub remark: String,
    pub visible: bool,
}

impl ValidField {
    fn values(&self) -> FieldValues<'_> {
        FieldValues {
            name: &self.name,
            kind: &self.kind,
            options: &self.options,
            priority: self.priority,
            remark: &self.remark,
            visible: self.visible,
        }
    }
}

fn kind_label(kind: &str) -> (&'static str, &'static str) {
    KINDS
        .iter()
        .find(|(code, _, _)| *code == kind)
        .map(|(_, zh, en)| (*zh, *en))
        .unwrap_or(("?", "?"))
}

/// Checks everything that does not need the database.
pub fn validate(input: FieldInput) -> Result<ValidField, CrmError> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(CrmError::invalid(
            "name",
            "name_required",
            "请填写属性名。".into(),
            "Enter the attribute name.".into(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(CrmError::invalid(
            "name",
            "invalid_name",
            format!("属性名最多 {MAX_NAME_CHARS} 个字符，且不能含控制字符。"),
            format!("The attribute name has at most {MAX_NAME_CHARS} characters and no control characters."),
        ));
    }
    let kind = input.kind.trim().to_string();
    if !KINDS.iter().any(|(code, _, _)| *code == kind) {
        let codes: Vec<&str> = KINDS.iter().map(|(code, _, _)| *code).collect();
        return Err(CrmError::invalid(
            "kind",
            "invalid_kind",
            format!(
                "类型无效，应为：输入、单选、多项、选择、日期、时间或文本（{}）。",
                codes.join(", ")
            ),
            format!("Unknown type; it is one of: {}.", codes.join(", ")),
        ));
    }
    let (kind_zh, kind_en) = kind_label(&kind);
    let options: Vec<String> = input.options.iter().map(|o| o.trim().to_string()).collect();
    if has_options(&kind) {
        if options.is_empty() {
            return Err(CrmError::invalid(
                "options",
                "options_required",
                format!("类型为“{kind_zh}”时必须填写属性值（可选的内容）。"),
                format!("A “{kind_en}” attribute needs its options (the values to choose from)."),
            ));
        }
        if options.len() > MAX_OPTIONS {
            return Err(CrmError::invalid(
                "options",
                "too_many_options",
                format!("属性值最多 {MAX_OPTIONS} 个。"),
                format!("At most {MAX_OPTIONS} options."),
            ));
        }
        let mut seen = HashSet::new();
        for option in &options {
            if option.is_empty() {
                return Err(CrmError::invalid(
                    "options",
                    "option_empty",
                    "属性值中有空项。".into(),
                    "One of the options is empty.".into(),
                ));
            }
            if option.chars().count() > MAX_OPTION_CHARS || option.chars().any(char::is_control) {
                return Err(CrmError::invalid(
                    "options",
                    "invalid_option",
                    format!("属性值“{option}”过长（最多 {MAX_OPTION_CHARS} 个字符）或含控制字符。"),
                    format!("The option “{option}” is longer than {MAX_OPTION_CHARS} characters or has control characters."),
                ));
            }
            if !seen.insert(option.as_str()) {
                return Err(CrmError::invalid(
                    "options",
                    "option_duplicate",
                    format!("属性值“{option}”重复。"),
                    format!("The option “{option}” is given twice."),
                ));
            }
        }
    } else if !options.is_empty() {
        return Err(CrmError::invalid(
            "options",
            "options_not_allowed",
            format!("类型为“{kind_zh}”时不能填写属性值；属性值只用于单选、多项和选择。"),
            format!("A “{kind_en}” attribute takes no options; options are for single choice, multiple choice and drop-down."),
        ));
    }
    if !(0..=MAX_PRIORITY).contains(&input.priority) {
        return Err(CrmError::invalid(
            "priority",
            "invalid_priority",
            format!("优先级应为 0 到 {MAX_PRIORITY} 之间的整数。"),
            format!("The priority is a whole number from 0 to {MAX_PRIORITY}."),
        ));
    }
    let remark = input.remark.trim().to_string();
    if remark.chars().count() > MAX_REMARK_CHARS {
        return Err(CrmError::invalid(
            "remark",
            "remark_too_long",
            format!("备注最多 {MAX_REMARK_CHARS} 个字符。"),
            format!("The remark has at most {MAX_REMARK_CHARS} characters."),
        ));
    }
    Ok(ValidField {
        name,
        kind,
        options,
        priority: input.priority,
        remark,
        visible: input.visible,
    })
}

fn name_taken(name: &str) -> CrmError {
    CrmError::Taken {
        field: "name",
        code: "name_taken",
        text: Text::owned(
            format!("属性名“{name}”已存在。"),
            format!("An attribute named “{name}” already exists."),
        ),
    }
}

fn not_found() -> CrmError {
    CrmError::NotFound(Text::fixed(
        "该属性不存在（可能已被删除）。",
        "No such attribute (it may have been deleted).",
    ))
}

/// The custom table, in order.
pub async fn list(store: &Store) -> Result<Vec<CustomField>, CrmError> {
    Ok(store.call(|conn| custom_fields::list(conn)).await?)
}

/// Creates an attribute. The name check and the insert run under one lock of the
/// connection, so two requests cannot both take a name.
pub async fn create(store: &Store, input: FieldInput) -> Result<CustomField, CrmError> {
    let field = validate(input)?;
    store
        .call(move |conn| {
            if custom_fields::holder_of_name(conn, &field.name, None)?.is_some() {
                return Ok(Err(name_taken(&field.name)));
            }
            let id = custom_fields::insert(conn, &field.values())?;
            Ok(custom_fields::get(conn, id)?.ok_or_else(not_found))
        })
        .await?
}

/// Edits an attribute → (before, after).
pub async fn update(
    store: &Store,
    id: i64,
    input: FieldInput,
) -> Result<(CustomField, CustomField), CrmError> {
    let field = validate(input)?;
    store
        .call(move |conn| {
            let Some(before) = custom_fields::get(conn, id)? else {
                return Ok(Err(not_found()));
            };
            if custom_fields::holder_of_name(conn, &field.name, Some(id))?.is_some() {
                return Ok(Err(name_taken(&field.name)));
            }
            custom_fields::update(conn, id, &field.values())?;
            Ok(custom_fields::get(conn, id)?
                .ok_or_else(not_found)
                .map(|after| (before, after)))
        })
        .await?
}

/// Deletes an attribute and the customers' values of it → what was deleted.
pub async fn delete(store: &Store, id: i64) -> Result<CustomField, CrmError> {
    store
        .call(move |conn| {
            let Some(field) = custom_fields::get(conn, id)? else {
                return Ok(Err(not_found()));
            };
            custom_fields::delete(conn, id)?;
            Ok(Ok(field))
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, kind: &str, options: &[&str]) -> FieldInput {
        FieldInput {
            name: name.into(),
            kind: kind.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            priority: 1,
            remark: String::new(),
            visible: true,
        }
    }

    fn refusal(input: FieldInput) -> (&'static str, &'static str, String) {
        match validate(input).unwrap_err() {
            CrmError::Invalid { field, code, text } => (field, code, text.zh.into_owned()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_refusal_names_its_field() {
        assert_eq!(refusal(input("  ", "input", &[])).0, "name");
        assert_eq!(
            refusal(input(&"长".repeat(33), "input", &[])).1,
            "invalid_name"
        );
        assert_eq!(refusal(input("级别", "list", &[])).1, "invalid_kind");
        let (field, code, zh) = refusal(input("级别", "radio", &[]));
        assert_eq!((field, code), ("options", "options_required"));
        assert!(zh.contains("单选"), "{zh}");
        let (field, code, zh) = refusal(input("地址", "input", &["1"]));
        assert_eq!((field, code), ("options", "options_not_allowed"));
        assert!(zh.contains("输入"), "{zh}");
        assert_eq!(
            refusal(input("级别", "select", &["1", " "])).1,
            "option_empty"
        );
        assert_eq!(
            refusal(input("级别", "checkbox", &["1", "1 "])).1,
            "option_duplicate"
        );
        let mut bad_priority = input("级别", "date", &[]);
        bad_priority.priority = -1;
        assert_eq!(refusal(bad_priority).0, "priority");
        let mut long_remark = input("级别", "time", &[]);
        long_remark.remark = "字".repeat(201);
        assert_eq!(refusal(long_remark).0, "remark");
    }

    #[test]
    fn accepted_values_are_trimmed() {
        let field = validate(input(" 级别 ", "radio", &[" 1", "2 "])).unwrap();
        assert_eq!(field.name, "级别");
        assert_eq!(field.options, vec!["1", "2"]);
        assert!(validate(input("说明", "text", &[])).is_ok());
    }

    #[tokio::test]
    async fn names_are_unique_and_deletes_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let first = create(&store, input("级别", "select", &["1", "2"]))
            .await
            .unwrap();
        let other = create(&store, input("地址", "input", &[])).await.unwrap();
        assert!(matches!(
            create(&store, input("级别", "input", &[])).await,
            Err(CrmError::Taken { field: "name", .. })
        ));
        assert!(matches!(
            update(&store, other.id, input("级别", "input", &[])).await,
            Err(CrmError::Taken { .. })
        ));
        // Keeping its own name is no conflict.
        let (before, after) = update(&store, first.id, input("级别", "radio", &["A"]))
            .await
            .unwrap();
        assert_eq!(
            (before.kind.as_str(), after.kind.as_str()),
            ("select", "radio")
        );
        assert_eq!(delete(&store, first.id).await.unwrap().name, "级别");
        assert!(matches!(
            delete(&store, first.id).await,
            Err(CrmError::NotFound(_))
        ));
        assert_eq!(list(&store).await.unwrap(), vec![other]);
    }
}
