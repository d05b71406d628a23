//! The story string renderer: the small Handlebars subset SillyTavern's context templates use.
//!
//! Understood: `{{name}}` and `{{{name}}}` (a field; an unknown name renders
//! nothing, as Handlebars does), `{{#if name}}…{{else}}…{{/if}}`,
//! `{{#unless name}}…{{/unless}}` (a field is true when non-empty),
//! `{{trim}}` (removes the line breaks around it, after rendering, as
//! SillyTavern does), comments `{{! … }}` and `{{!-- … --}}`, and `~`
//! whitespace control (`{{~#if x~}}`). Not minijinja: its syntax has no
//! `{{#if}}`, and this subset is a page of code with hard limits on size,
//! nesting and output.

use crate::error::{Error, Result};

use super::input::StoryFields;

/// The longest story string accepted.
pub const MAX_STORY_SOURCE_BYTES: usize = 64 * 1024;
/// The deepest nesting of `{{#if}}`/`{{#unless}}` blocks accepted.
pub const MAX_STORY_DEPTH: usize = 16;
/// The most text a story string may render to.
pub const MAX_STORY_OUTPUT_BYTES: usize = 8 * 1024 * 1024;

/// A piece of a parsed story string.
#[derive(Debug)]
enum Node {
    Text(String),
    Field(String),
    Trim,
    Block {
        negate: bool,
        field: String,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// A block being parsed.
struct Frame {
    negate: bool,
    field: String,
    then: Vec<Node>,
    otherwise: Option<Vec<Node>>,
}

impl Frame {
    fn current(&mut self) -> &mut Vec<Node> {
        match &mut self.otherwise {
            Some(o) => o,
            None => &mut self.then,
        }
    }
}

/// Checks that a story string parses, within the limits.
pub(crate) fn check_story_string(source: &str) -> Result<()> {
    parse(source).map(|_| ())
}

fn invalid(detail: &str) -> Error {
    Error::InvalidInput(format!("the story string cannot be read: {detail}"))
}

fn parse(source: &str) -> Result<Vec<Node>> {
    if source.len() > MAX_STORY_SOURCE_BYTES {
        return Err(Error::TooLarge {
            what: "the story string".into(),
            limit: format!("{} KB", MAX_STORY_SOURCE_BYTES / 1024),
        });
    }
    let mut root: Vec<Node> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut rest = source;
    let mut trim_next_text = false;
    loop {
        let Some(open) = rest.find("{{") else {
            push_text(&mut stack, &mut root, rest, trim_next_text);
            break;
        };
        let triple = rest[open..].starts_with("{{{");
        let body_start = open + if triple { 3 } else { 2 };
        let close_pat = if triple { "}}}" } else { "}}" };
        let is_comment_long =
            rest[body_start..].starts_with("!--") || rest[body_start..].starts_with("~!--");
        let close_pat = if is_comment_long { "--}}" } else { close_pat };
        let Some(close_rel) = rest[body_start..].find(close_pat) else {
            return Err(invalid("a `{{` is never closed"));
        };
        let mut body = &rest[body_start..body_start + close_rel];
        let after = body_start + close_rel + close_pat.len();
        let trim_before = body.starts_with('~');
        let trim_after = body.ends_with('~');
        body = body.trim_start_matches('~').trim_end_matches('~').trim();
        let mut text = &rest[..open];
        if trim_before {
            text = text.trim_end();
        }
        push_text(&mut stack, &mut root, text, trim_next_text);
        trim_next_text = trim_after;
        rest = &rest[after..];

        if body.starts_with('!') {
            continue;
        }
        if let Some(b) = body.strip_prefix('#') {
            let (kind, arg) = split_word(b);
            let negate = match kind {
                "if" => false,
                "unless" => true,
                other => return Err(invalid(&format!("unknown block `#{other}`"))),
            };
            if arg.is_empty() {
                return Err(invalid(&format!("`#{kind}` names no field")));
            }
            if stack.len() >= MAX_STORY_DEPTH {
                return Err(Error::TooLarge {
                    what: "the story string's nesting".into(),
                    limit: format!("{MAX_STORY_DEPTH} levels"),
                });
            }
            stack.push(Frame {
                negate,
                field: arg.to_owned(),
                then: Vec::new(),
                otherwise: None,
            });
            continue;
        }
        if let Some(b) = body.strip_prefix('/') {
            let kind = b.trim();
            let Some(frame) = stack.pop() else {
                return Err(invalid(&format!("`/{kind}` closes no block")));
            };
            let expected = if frame.negate { "unless" } else { "if" };
            if kind != expected {
                return Err(invalid(&format!("`/{kind}` closes a `#{expected}` block")));
            }
            let node = Node::Block {
                negate: frame.negate,
                field: frame.field,
                then: frame.then,
                otherwise: frame.otherwise.unwrap_or_default(),
            };
            current(&mut stack, &mut root).push(node);
            continue;
        }
        if body == "else" || body == "^" {
            match stack.last_mut() {
                Some(frame) if frame.otherwise.is_none() => frame.otherwise = Some(Vec::new()),
                Some(_) => return Err(invalid("a block has two `else`")),
                None => return Err(invalid("`else` outside a block")),
            }
            continue;
        }
        let node = if body == "trim" {
            Node::Trim
        } else {
            Node::Field(body.to_owned())
        };
        current(&mut stack, &mut root).push(node);
    }
    if let Some(frame) = stack.last() {
        let kind = if frame.negate { "unless" } else { "if" };
        return Err(invalid(&format!(
            "`#{kind} {}` is never closed",
            frame.field
        )));
    }
    Ok(root)
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

fn current<'a>(stack: &'a mut [Frame], root: &'a mut Vec<Node>) -> &'a mut Vec<Node> {
    match stack.last_mut() {
        Some(frame) => frame.current(),
        None => root,
    }
}

fn push_text(stack: &mut [Frame], root: &mut Vec<Node>, text: &str, trim_start: bool) {
    let text = if trim_start { text.trim_start() } else { text };
    if !text.is_empty() {
        current(stack, root).push(Node::Text(text.to_owned()));
    }
}

/// The values a story string can read, by the names SillyTavern gives them.
pub(crate) struct StoryVars<'a> {
    pub fields: &'a StoryFields,
    pub char_name: &'a str,
    pub user_name: &'a str,
    pub mes_examples: &'a str,
    pub mes_examples_raw: &'a str,
}

impl StoryVars<'_> {
    fn get(&self, name: &str) -> &str {
        let f = self.fields;
        match name {
            "description" => &f.description,
            "personality" => &f.personality,
            "scenario" => &f.scenario,
            "persona" => &f.persona,
            "system" => &f.system,
            "wiBefore" | "loreBefore" => &f.wi_before,
            "wiAfter" | "loreAfter" => &f.wi_after,
            "char" => self.char_name,
            "user" => self.user_name,
            "mesExamples" => self.mes_examples,
            "mesExamplesRaw" => self.mes_examples_raw,
            _ => "",
        }
    }
}

/// Whether a story string reads the example dialogue itself (then it is not also sent after it).
pub(crate) fn uses_examples(source: &str) -> bool {
    source.contains("mesExamples")
}

/// Renders `source` over `vars`: `{{trim}}` applied, leading line breaks removed.
pub(crate) fn render(source: &str, vars: &StoryVars<'_>) -> Result<String> {
    let nodes = parse(source)?;
    let mut out = Output {
        text: String::new(),
        eat_newlines: false,
    };
    emit(&nodes, vars, &mut out)?;
    Ok(out.text.trim_start_matches(['\r', '\n']).to_owned())
}

/// Renders a story string for the UI's preview (no instruct framing; leading line breaks removed).
pub fn render_story_string(
    source: &str,
    fields: &StoryFields,
    char_name: &str,
    user_name: &str,
    mes_examples: &str,
) -> Result<String> {
    render(
        source,
        &StoryVars {
            fields,
            char_name,
            user_name,
            mes_examples,
            mes_examples_raw: mes_examples,
        },
    )
}

struct Output {
    text: String,
    /// After `{{trim}}`: line breaks at the start of what follows are dropped.
    eat_newlines: bool,
}

impl Output {
    fn push(&mut self, s: &str) -> Result<()> {
        let s = if self.eat_newlines {
            s.trim_start_matches(['\r', '\n'])
        } else {
            s
        };
        if s.is_empty() {
            return Ok(());
        }
        self.eat_newlines = false;
        if self.text.len() + s.len() > MAX_STORY_OUTPUT_BYTES {
            return Err(Error::TooLarge {
                what: "the rendered story string".into(),
                limit: format!("{} MB", MAX_STORY_OUTPUT_BYTES / (1024 * 1024)),
            });
        }
        self.text.push_str(s);
        Ok(())
    }
}

fn emit(nodes: &[Node], vars: &StoryVars<'_>, out: &mut Output) -> Result<()> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push(t)?,
            Node::Field(name) => out.push(vars.get(name))?,
            Node::Trim => {
                let kept = out.text.trim_end_matches(['\r', '\n']).len();
                out.text.truncate(kept);
                out.eat_newlines = true;
            }
            Node::Block {
                negate,
                field,
                then,
                otherwise,
            } => {
                let truthy = !vars.get(field).is_empty();
                let branch = if truthy != *negate { then } else { otherwise };
                emit(branch, vars, out)?;
            }
        }
    }
    Ok(())
}
