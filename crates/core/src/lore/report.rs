//! What a scan found: activated entries with the reason each fired, and what was dropped.

use serde::{Deserialize, Serialize};

use super::engine::Trigger;
use super::model::{EntryPosition, EntryRole};

/// What kind of problem a key has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum KeyErrorKind {
    /// Not a regex either engine accepts.
    Invalid,
    /// The regex compiles to more than one key may use.
    TooLarge,
    /// The book's other regex keys already use the book's regex budget.
    BookBudget,
    /// A search with it stopped at its backtracking limit (during a scan).
    Failed,
}

/// A key that could not be compiled, or failed during a scan; its entry still
/// fires on its other keys, and the rest of the book works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyError {
    /// The entry's uid.
    pub uid: u32,
    /// The key as written.
    pub key: String,
    /// What kind of problem it is.
    pub kind: KeyErrorKind,
    /// Why, in words.
    pub error: String,
}

/// A message as the engine scans it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScanMessage {
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The speaker's name (used when the book includes names).
    pub name: String,
    /// The text.
    pub content: String,
}

/// Where a key was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum MatchedIn {
    /// A chat message; 0 is the newest.
    Message {
        /// Messages back from the newest.
        index: u32,
    },
    /// Content of entries activated at the previous recursion level.
    Recursion {
        /// The recursion level (1 = first pass over activated content).
        level: u32,
    },
    /// One of the other texts an entry may match (persona, description, ...).
    Source {
        /// Which one (`personaDescription`, `characterDescription`, ...).
        name: String,
    },
}

/// Why an entry fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum ActivationReason {
    /// A key matched.
    Key {
        /// The primary key that matched, as written.
        key: String,
        /// The secondary key that satisfied the selective logic, if one was needed.
        secondary: Option<String>,
        /// Where it matched.
        matched_in: MatchedIn,
    },
    /// The entry is constant.
    Constant,
    /// Still active from an earlier message (sticky).
    Sticky {
        /// Messages left.
        remaining: u32,
    },
    /// Pulled in by the minimum-activations rule scanning deeper.
    MinActivations {
        /// The depth the scan reached.
        depth: u32,
    },
    /// Its content starts with the `@@activate` decorator.
    Decorator,
}

/// One activated entry, in insertion order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    /// The book it belongs to (an id, or the book's name outside the library).
    pub book: String,
    /// The entry's uid.
    pub uid: u32,
    /// The entry's title.
    pub comment: String,
    /// Where it goes.
    pub position: EntryPosition,
    /// Its depth (for `AtDepth`).
    pub depth: u32,
    /// Its role (for `AtDepth`).
    pub role: EntryRole,
    /// Its insertion order.
    pub order: i32,
    /// Its content's token count.
    pub tokens: u32,
    /// Why it fired.
    pub reason: ActivationReason,
    /// The inclusion group it won, if any.
    pub group_won: Option<String>,
    /// The content to inject.
    pub content: String,
    /// For `Outlet`: the outlet's name (`{{outlet::Name}}` pulls it in).
    #[serde(default)]
    pub outlet: String,
    /// Where the entry asked to go, when the prompt placed it elsewhere (keyword
    /// entries moved out of the system message to keep the cached prefix stable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<EntryPosition>,
}

/// Why a matched entry was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum DropReason {
    /// The token budget was spent.
    Budget {
        /// The budget in tokens.
        budget: u32,
    },
    /// The probability roll failed.
    Probability {
        /// The entry's probability.
        probability: u32,
        /// The roll, 0 to 99.
        roll: u32,
    },
    /// Another entry won its inclusion group.
    Group {
        /// The group.
        group: String,
        /// The winner's uid.
        winner: u32,
    },
    /// Still cooling down.
    Cooldown {
        /// Messages left.
        remaining: u32,
    },
    /// The chat is not long enough yet.
    Delay {
        /// Messages the chat must have.
        needed: u32,
    },
    /// Waiting for a deeper recursion level.
    DelayUntilRecursion {
        /// The level it needs.
        level: u32,
    },
    /// The secondary keys' logic was not satisfied.
    SecondaryKeys,
    /// A key could not be compiled (the rest of the book still works).
    InvalidKey {
        /// The key as written.
        key: String,
        /// Why.
        error: String,
    },
    /// The entry is only for other kinds of generation (its triggers).
    Trigger {
        /// The kind of generation scanned for.
        trigger: Trigger,
        /// The kinds the entry is for, as the book writes them.
        triggers: Vec<String>,
    },
    /// The entry's character filter leaves this character out.
    CharacterFilter {
        /// The character scanned for.
        character: String,
        /// The filter excludes what it lists (else it includes only that).
        exclude: bool,
        /// Decided by the filter's tags (else by its names).
        by_tag: bool,
    },
    /// Its content starts with the `@@dont_activate` decorator.
    DontActivate,
}

/// One entry that matched (or was considered) but was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    /// The book it belongs to.
    pub book: String,
    /// The entry's uid.
    pub uid: u32,
    /// The entry's title.
    pub comment: String,
    /// Why.
    pub reason: DropReason,
}

/// The result of one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    /// Activated entries, in insertion order.
    pub activated: Vec<Activation>,
    /// Entries left out, with the reason.
    pub dropped: Vec<Dropped>,
    /// Tokens the activated entries use.
    pub tokens_used: u32,
    /// The budget in tokens: at least 1 when a book was scanned, 0 when none was.
    pub budget: u32,
    /// Recursion levels that ran.
    pub recursion_levels: u32,
    /// Keys whose search failed during this scan (a look-around key that hit its
    /// backtracking limit); keys that do not compile are in the books' own errors.
    pub key_errors: Vec<KeyError>,
}
