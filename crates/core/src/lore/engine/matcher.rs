//! Matching keys against text: `/regex/flags` parsing, Unicode-aware whole words, case folding.

/// A key after parsing: plain text or a JavaScript-style regex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyForm<'a> {
    /// Plain text, trimmed.
    Plain(&'a str),
    /// A `/pattern/flags` key: the pattern with `\/` unescaped, and its flags.
    Regex {
        pattern: String,
        case_insensitive: bool,
        multi_line: bool,
        dot_all: bool,
    },
}

/// Parses a key the way SillyTavern's `parseRegexFromString` does.
///
/// `/pattern/flags` with flags from `gimsuy` is a regex, unless the pattern has
/// an unescaped `/` (then ST treats the whole key as plain text, and so do we).
/// Unlike ST, every `\/` is unescaped, not just the first.
pub(crate) fn parse_key(key: &str) -> KeyForm<'_> {
    let key = key.trim();
    if let Some(rest) = key.strip_prefix('/') {
        if let Some(last) = rest.rfind('/') {
            let (pattern, flags) = (&rest[..last], &rest[last + 1..]);
            let flags_ok = flags.chars().all(|c| "gimsuy".contains(c));
            if !pattern.is_empty() && flags_ok && !has_unescaped_slash(pattern) {
                return KeyForm::Regex {
                    pattern: pattern.replace("\\/", "/"),
                    case_insensitive: flags.contains('i'),
                    multi_line: flags.contains('m'),
                    dot_all: flags.contains('s'),
                };
            }
        }
    }
    KeyForm::Plain(key)
}

fn has_unescaped_slash(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        match c {
            '\\' => escaped = !escaped,
            '/' if !escaped => return true,
            _ => escaped = false,
        }
    }
    false
}

/// Case folding for case-insensitive keys: Unicode lowercase of key and text alike.
///
/// `str::to_lowercase` is Unicode-aware (Cyrillic, Greek, accented Latin). It is
/// not full case folding (`ß` stays `ß`), which matches what SillyTavern's
/// `toLowerCase` does, so books behave the same in both.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Whether a character counts as part of a word: Unicode letters and digits, and `_`
/// (JavaScript's `\w` includes `_`, so ST treats `cat_food` as one word).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Scripts written without spaces between words: there are no word boundaries to find,
/// so a key edge in one of these scripts may touch any neighbour.
pub(crate) fn is_spaceless_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}' // Katakana extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}' // half-width Katakana
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables (particles attach to nouns)
        | '\u{0E00}'..='\u{0E7F}' // Thai
        | '\u{0E80}'..='\u{0EFF}' // Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{20000}'..='\u{2FA1F}' // CJK extensions B..F, compatibility supplement
    )
}

/// Which edges of a whole-word key must sit on a word boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Boundaries {
    /// The character before the match must not be a word character.
    pub left: bool,
    /// The character after the match must not be a word character.
    pub right: bool,
}

impl Boundaries {
    /// Boundaries for a plain key: none unless whole-word mode is on.
    ///
    /// Keys with inner whitespace match as substrings, as in ST (`big cat` finds
    /// `big cats`). An edge in a spaceless script (CJK, Thai...) needs no boundary:
    /// `猫` fires in `黑猫很可爱`, while `кот` still refuses `котлета`.
    pub(crate) fn for_key(key: &str, whole_words: bool) -> Boundaries {
        if !whole_words || key.chars().any(char::is_whitespace) {
            return Boundaries::default();
        }
        let first = key.chars().next();
        let last = key.chars().next_back();
        Boundaries {
            left: first.is_some_and(|c| !is_spaceless_script(c)),
            right: last.is_some_and(|c| !is_spaceless_script(c)),
        }
    }

    /// Whether the match `text[start..end]` respects these boundaries.
    pub(crate) fn accept(self, text: &str, start: usize, end: usize) -> bool {
        let left_ok = !self.left
            || text
                .get(..start)
                .and_then(|s| s.chars().next_back())
                .is_none_or(|c| !is_word_char(c));
        let right_ok = !self.right
            || text
                .get(end..)
                .and_then(|s| s.chars().next())
                .is_none_or(|c| !is_word_char(c));
        left_ok && right_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_keys_parse_like_sillytavern() {
        assert_eq!(
            parse_key("/dragons?/i"),
            KeyForm::Regex {
                pattern: "dragons?".into(),
                case_insensitive: true,
                multi_line: false,
                dot_all: false
            }
        );
        // Unescaped inner slash: plain text in ST.
        assert_eq!(parse_key("/a/b/"), KeyForm::Plain("/a/b/"));
        assert_eq!(
            parse_key(r"/a\/b/"),
            KeyForm::Regex {
                pattern: "a/b".into(),
                case_insensitive: false,
                multi_line: false,
                dot_all: false
            }
        );
        // Unknown flag or empty pattern: plain.
        assert_eq!(parse_key("/x/q"), KeyForm::Plain("/x/q"));
        assert_eq!(parse_key("//"), KeyForm::Plain("//"));
        assert_eq!(parse_key("  cat "), KeyForm::Plain("cat"));
    }

    #[test]
    fn whole_word_boundaries_are_unicode_aware() {
        let b = Boundaries::for_key("кот", true);
        assert!(!b.accept("котлета", 0, "кот".len()));
        assert!(b.accept("кот спит", 0, "кот".len()));
        let t = "большой кот.";
        let s = t.find("кот").unwrap_or(0);
        assert!(b.accept(t, s, s + "кот".len()));
        let cjk = Boundaries::for_key("猫", true);
        assert_eq!(cjk, Boundaries::default());
        assert_eq!(Boundaries::for_key("big cat", true), Boundaries::default());
        let snake = Boundaries::for_key("cat", true);
        assert!(!snake.accept("cat_food", 0, 3));
    }
}
