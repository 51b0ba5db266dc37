//! The two languages of the console (Chinese first, English second) and how a request picks
//! one. Every user-facing message the daemon produces is a [`Text`] carrying both, rendered
//! at the edge in the language the request asked for.

use std::borrow::Cow;

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header: the first language that we speak,
    /// honouring q-values; Chinese when nothing matches (the product's first language).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Zh;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::Zh, |(_, lang)| lang)
    }
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub const fn fixed(zh: &'static str, en: &'static str) -> Text {
        Text {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    pub fn owned(zh: String, en: String) -> Text {
        Text {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The name recorded for the administrator in the operation log's 坐席名, 工号 and 分机
/// columns (manual §8).
pub const ADMIN_LABEL: &str = "管理员";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("fr-FR")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("")), Lang::Zh);
    }

    #[test]
    fn english_when_asked_first() {
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("de, en-GB;q=0.5")),
            Lang::En
        );
    }

    #[test]
    fn quality_values_decide() {
        assert_eq!(
            Lang::from_accept_language(Some("en;q=0.4, zh-CN;q=0.8")),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN;q=0.2, en;q=0.9")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("zh-CN, en")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en;q=0")), Lang::Zh);
    }
}
