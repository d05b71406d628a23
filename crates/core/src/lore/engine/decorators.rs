//! Entry decorators: `@@activate` / `@@dont_activate` lines at the top of an entry's
//! content, read the way SillyTavern's `parseDecorators` reads them.
//!
//! Only content that starts with `@@` has decorators. Its leading lines that start
//! with `@@` are the decorator block; the content is what follows. A line is a
//! known decorator when it starts with `@@activate` or `@@dont_activate`; any other
//! `@@` line is unknown and ignored, but lets the next `@@@` line stand in for it
//! (the fallback: `@@@activate` after an unknown decorator counts as `@@activate`).
//! A `@@@` line without an unknown decorator before it is skipped. A decorator acts
//! only when its line is exactly the decorator (ST compares whole lines).
//!
//! Unlike ST, whose content keeps the decorator lines when nothing follows them,
//! the content is then empty: decorator lines never reach the prompt. Trailing
//! spaces and a `\r` (CRLF files) are ignored on decorator lines.

const ACTIVATE: &str = "@@activate";
const DONT_ACTIVATE: &str = "@@dont_activate";
const KNOWN: [&str; 2] = [ACTIVATE, DONT_ACTIVATE];

/// What an entry's decorators ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Decorators {
    /// `@@activate`: fires as if a key matched.
    pub activate: bool,
    /// `@@dont_activate`: never fires by keys, constant or sticky.
    pub dont_activate: bool,
}

/// The decorators at the top of `content`, and the content without them.
pub(crate) fn parse(content: &str) -> (Decorators, &str) {
    let mut found = Decorators::default();
    if !content.starts_with("@@") {
        return (found, content);
    }
    let mut fallback = false;
    let mut rest = "";
    let mut offset = 0;
    for line in content.split('\n') {
        let start = offset;
        offset += line.len() + 1;
        if !line.starts_with("@@") {
            rest = content.get(start..).unwrap_or("");
            break;
        }
        if line.starts_with("@@@") && !fallback {
            continue;
        }
        // `@@@x` stands in for `@@x`.
        let name = line
            .strip_prefix('@')
            .filter(|l| l.starts_with("@@"))
            .unwrap_or(line);
        if KNOWN.iter().any(|k| name.starts_with(k)) {
            fallback = false;
            match name.trim_end() {
                ACTIVATE => found.activate = true,
                DONT_ACTIVATE => found.dont_activate = true,
                _ => {}
            }
        } else {
            fallback = true;
        }
    }
    (found, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(activate: bool, dont_activate: bool) -> Decorators {
        Decorators {
            activate,
            dont_activate,
        }
    }

    #[test]
    fn leading_decorator_lines_are_read_and_removed() {
        assert_eq!(
            parse("@@activate\nThe tower."),
            (both(true, false), "The tower.")
        );
        assert_eq!(parse("@@dont_activate\r\nx"), (both(false, true), "x"));
        assert_eq!(
            parse("plain\n@@activate"),
            (both(false, false), "plain\n@@activate")
        );
        assert_eq!(
            parse(" @@activate\nx"),
            (both(false, false), " @@activate\nx")
        );
        // Unknown decorators are dropped; nothing after the block leaves no content.
        assert_eq!(parse("@@depth 3\n@@activate"), (both(true, false), ""));
        // Known by prefix but not exactly the decorator: removed, does nothing (as ST).
        assert_eq!(parse("@@activate now\nx"), (both(false, false), "x"));
    }

    #[test]
    fn triple_at_lines_are_fallbacks_after_unknown_decorators() {
        assert_eq!(parse("@@future\n@@@activate\nx"), (both(true, false), "x"));
        assert_eq!(parse("@@@activate\nx"), (both(false, false), "x"));
        assert_eq!(
            parse("@@activate\n@@@dont_activate\nx"),
            (both(true, false), "x")
        );
    }
}
