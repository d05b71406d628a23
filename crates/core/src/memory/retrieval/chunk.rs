//! Splitting a message into passages of about [`PASSAGE_CHARS`] characters, at
//! paragraph boundaries, then sentence boundaries, then (a run-on text) words.

/// The length a passage aims for, in characters.
pub const PASSAGE_CHARS: usize = 1000;
/// The most passages taken from one message (a pasted book is not indexed whole).
pub const MAX_PASSAGES_PER_MESSAGE: usize = 32;

/// `text` as passages in order, each trimmed and non-empty, at most
/// [`MAX_PASSAGES_PER_MESSAGE`] of them.
pub fn split_passages(text: &str) -> Vec<String> {
    let mut out = Passages::default();
    for paragraph in text.split("\n\n") {
        let paragraph = paragraph.trim();
        if paragraph.is_empty() {
            continue;
        }
        if chars(paragraph) <= PASSAGE_CHARS {
            out.add(paragraph, "\n\n");
            continue;
        }
        for sentence in sentences(paragraph) {
            if chars(sentence) <= PASSAGE_CHARS {
                out.add(sentence, " ");
            } else {
                for piece in words(sentence) {
                    out.add(piece, " ");
                }
            }
        }
        if out.done.len() >= MAX_PASSAGES_PER_MESSAGE {
            break;
        }
    }
    out.finish()
}

#[derive(Default)]
struct Passages {
    done: Vec<String>,
    current: String,
    current_chars: usize,
}

impl Passages {
    /// Appends `piece`, starting a new passage when it would pass the aim.
    fn add(&mut self, piece: &str, joiner: &str) {
        let piece = piece.trim();
        if piece.is_empty() {
            return;
        }
        let n = chars(piece);
        if self.current_chars > 0 && self.current_chars + n + 1 > PASSAGE_CHARS {
            self.flush();
        }
        if self.current_chars > 0 {
            self.current.push_str(joiner);
            self.current_chars += joiner.len();
        }
        self.current.push_str(piece);
        self.current_chars += n;
    }

    fn flush(&mut self) {
        let text = std::mem::take(&mut self.current);
        self.current_chars = 0;
        let text = text.trim();
        if !text.is_empty() {
            self.done.push(text.to_owned());
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.done.truncate(MAX_PASSAGES_PER_MESSAGE);
        self.done
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Sentences: each ends after `.`, `!`, `?`, `…` (or their CJK forms) and the
/// closing quotes or brackets after it, or at a line break.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = match c {
            '\n' => Some(i + c.len_utf8()),
            '.' | '!' | '?' | '…' | '。' | '！' | '？' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, next)) = iter.peek() {
                    if matches!(
                        next,
                        '"' | '\'' | '”' | '’' | ')' | ']' | '»' | '*' | '.' | '!' | '?'
                    ) {
                        end = j + next.len_utf8();
                        iter.next();
                    } else {
                        break;
                    }
                }
                // A sentence ends at a space (or the text's end), not inside "3.14".
                match iter.peek() {
                    None => Some(end),
                    Some(&(_, next)) if next.is_whitespace() => Some(end),
                    Some(_) if c != '.' => Some(end),
                    Some(_) => None,
                }
            }
            _ => None,
        };
        if let Some(end) = end {
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A run-on text in pieces of at most [`PASSAGE_CHARS`] characters, cut at a
/// space where there is one in the second half of the piece.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let cut = match rest.char_indices().nth(PASSAGE_CHARS) {
            None => rest.len(),
            Some((at, _)) => {
                let half = rest
                    .char_indices()
                    .nth(PASSAGE_CHARS / 2)
                    .map_or(0, |(i, _)| i);
                match rest[..at].rfind(char::is_whitespace) {
                    Some(space) if space > half => space,
                    _ => at,
                }
            }
        };
        out.push(&rest[..cut]);
        rest = rest[cut..].trim_start();
    }
    out
}

/// A stable hash of a message's text (the first 8 bytes of its SHA-256).
pub fn text_hash(text: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_passage() {
        assert_eq!(split_passages("  Hello there.  "), vec!["Hello there."]);
        assert!(split_passages(" \n\n ").is_empty());
    }

    #[test]
    fn paragraphs_pack_up_to_the_aim() {
        let para = "word ".repeat(150); // 750 chars
        let text = format!("{para}\n\n{para}\n\n{para}");
        let passages = split_passages(&text);
        assert_eq!(passages.len(), 3);
        assert!(passages.iter().all(|p| p.chars().count() <= PASSAGE_CHARS));
    }

    #[test]
    fn long_paragraphs_split_at_sentences_and_words() {
        let sentence = "The knight rode on through the rain. ".repeat(100);
        let passages = split_passages(&sentence);
        assert!(passages.len() >= 3);
        assert!(passages.iter().all(|p| p.ends_with('.')), "{passages:?}");
        let runon = "ж".repeat(5000);
        let passages = split_passages(&runon);
        assert_eq!(passages.len(), 5);
        assert!(passages.iter().all(|p| p.chars().count() <= PASSAGE_CHARS));
        let huge = "a b. ".repeat(200_000);
        assert_eq!(split_passages(&huge).len(), MAX_PASSAGES_PER_MESSAGE);
    }

    #[test]
    fn decimals_do_not_end_sentences() {
        assert_eq!(
            sentences("Pi is 3.14 exactly. Yes."),
            vec!["Pi is 3.14 exactly.", " Yes."]
        );
    }
}
