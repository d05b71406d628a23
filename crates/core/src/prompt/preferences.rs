//! The USER PREFERENCE MODIFIERS block: how a character should treat the user.
//!
//! Format (lines joined with `\n`):
//!
//! ```text
//! USER PREFERENCE MODIFIERS
//! - Mira and Ann are friends.
//! - Keep replies short.
//! - Be warm and affectionate toward Ann.
//! ```
//!
//! The relationship line comes first, then speech modifiers, then behaviour
//! modifiers, each in declaration order (duplicates once). A non-empty
//! `summary` replaces all of them: the block is the title and the summary.

use crate::error::{Error, Result};
use crate::session::{BehaviourModifier, CharacterPreferences, RelationshipMode, SpeechModifier};

/// The block's first line.
pub const PREFERENCES_TITLE: &str = "USER PREFERENCE MODIFIERS";

/// Refuses preferences that ask for opposite things.
///
/// Checked even when a summary would replace the modifiers, so what is saved
/// is always coherent.
pub fn validate_preferences(prefs: &CharacterPreferences) -> Result<()> {
    let speech = |m| prefs.speech.contains(&m);
    let behaviour = |m| prefs.behaviour.contains(&m);
    let clash = if speech(SpeechModifier::BeFormal) && speech(SpeechModifier::BeInformal) {
        Some(("be_formal", "be_informal"))
    } else if behaviour(BehaviourModifier::BeWarm) && behaviour(BehaviourModifier::BeCold) {
        Some(("be_warm", "be_cold"))
    } else if behaviour(BehaviourModifier::BeFunny) && behaviour(BehaviourModifier::BeSerious) {
        Some(("be_funny", "be_serious"))
    } else {
        None
    };
    match clash {
        Some((a, b)) => Err(Error::InvalidInput(format!(
            "the preferences contradict each other: {a} and {b} cannot both be set"
        ))),
        None => Ok(()),
    }
}

/// The block for `prefs`, or an empty string when there is nothing to say.
///
/// The default relationship (`Stranger`) says nothing: it is what every
/// character starts with, so default preferences give no block at all.
pub fn preference_block(
    prefs: &CharacterPreferences,
    char_name: &str,
    user_name: &str,
) -> Result<String> {
    validate_preferences(prefs)?;
    let summary = prefs.summary.trim();
    if !summary.is_empty() {
        return Ok(format!("{PREFERENCES_TITLE}\n{summary}"));
    }
    let mut lines = Vec::new();
    if let Some(line) = relationship_line(prefs, char_name, user_name) {
        lines.push(line);
    }
    let mut speech = prefs.speech.clone();
    speech.sort();
    speech.dedup();
    lines.extend(speech.into_iter().map(|m| speech_line(m).to_owned()));
    let mut behaviour = prefs.behaviour.clone();
    behaviour.sort();
    behaviour.dedup();
    lines.extend(behaviour.into_iter().map(|m| behaviour_line(m, user_name)));
    if lines.is_empty() {
        return Ok(String::new());
    }
    let mut block = String::from(PREFERENCES_TITLE);
    for line in lines {
        block.push_str("\n- ");
        block.push_str(&line);
    }
    Ok(block)
}

fn relationship_line(prefs: &CharacterPreferences, c: &str, u: &str) -> Option<String> {
    Some(match prefs.relationship {
        RelationshipMode::Stranger => return None,
        RelationshipMode::Friend => format!("{c} and {u} are friends."),
        RelationshipMode::Sibling => format!("{c} and {u} are siblings."),
        RelationshipMode::Parent => format!("{c} is {u}'s parent."),
        RelationshipMode::Child => format!("{c} is {u}'s child."),
        RelationshipMode::Partner => format!("{c} and {u} are partners."),
        RelationshipMode::Custom => {
            let custom = prefs.custom_relationship.trim();
            if custom.is_empty() {
                return None;
            }
            format!("Relationship between {c} and {u}: {custom}")
        }
    })
}

fn speech_line(m: SpeechModifier) -> &'static str {
    match m {
        SpeechModifier::TalkLess => "Keep replies short.",
        SpeechModifier::NoAnalogies => "Do not use analogies or metaphors.",
        SpeechModifier::UseSimpleWords => "Use simple, everyday words.",
        SpeechModifier::BeFormal => "Speak formally.",
        SpeechModifier::BeInformal => "Speak casually and informally.",
    }
}

fn behaviour_line(m: BehaviourModifier, u: &str) -> String {
    match m {
        BehaviourModifier::BeFunny => "Be funny and playful; use humour.".to_owned(),
        BehaviourModifier::BeSerious => "Be serious; avoid jokes.".to_owned(),
        BehaviourModifier::BeFlirty => format!("Be flirtatious with {u}."),
        BehaviourModifier::BeProtective => format!("Be protective of {u}."),
        BehaviourModifier::BeWarm => format!("Be warm and affectionate toward {u}."),
        BehaviourModifier::BeCold => format!("Be cold and distant toward {u}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(p: &CharacterPreferences) -> String {
        preference_block(p, "Mira", "Ann").unwrap()
    }

    #[test]
    fn default_preferences_give_no_block() {
        assert_eq!(block(&CharacterPreferences::default()), "");
        let custom_but_blank = CharacterPreferences {
            relationship: RelationshipMode::Custom,
            custom_relationship: "  ".into(),
            ..Default::default()
        };
        assert_eq!(block(&custom_but_blank), "");
    }

    #[test]
    fn every_line() {
        let p = CharacterPreferences {
            relationship: RelationshipMode::Friend,
            speech: vec![
                SpeechModifier::UseSimpleWords,
                SpeechModifier::TalkLess,
                SpeechModifier::NoAnalogies,
                SpeechModifier::BeFormal,
                SpeechModifier::TalkLess,
            ],
            behaviour: vec![
                BehaviourModifier::BeWarm,
                BehaviourModifier::BeFunny,
                BehaviourModifier::BeFlirty,
                BehaviourModifier::BeProtective,
            ],
            ..Default::default()
        };
        assert_eq!(
            block(&p),
            "USER PREFERENCE MODIFIERS\n\
             - Mira and Ann are friends.\n\
             - Keep replies short.\n\
             - Do not use analogies or metaphors.\n\
             - Use simple, everyday words.\n\
             - Speak formally.\n\
             - Be funny and playful; use humour.\n\
             - Be flirtatious with Ann.\n\
             - Be protective of Ann.\n\
             - Be warm and affectionate toward Ann."
        );
        let q = CharacterPreferences {
            speech: vec![SpeechModifier::BeInformal],
            behaviour: vec![BehaviourModifier::BeSerious, BehaviourModifier::BeCold],
            ..Default::default()
        };
        assert_eq!(
            block(&q),
            "USER PREFERENCE MODIFIERS\n\
             - Speak casually and informally.\n\
             - Be serious; avoid jokes.\n\
             - Be cold and distant toward Ann."
        );
    }

    #[test]
    fn relationships() {
        let line = |relationship, custom: &str| {
            block(&CharacterPreferences {
                relationship,
                custom_relationship: custom.into(),
                ..Default::default()
            })
        };
        let t = "USER PREFERENCE MODIFIERS\n- ";
        assert_eq!(line(RelationshipMode::Stranger, ""), "");
        assert_eq!(
            line(RelationshipMode::Sibling, ""),
            format!("{t}Mira and Ann are siblings.")
        );
        assert_eq!(
            line(RelationshipMode::Parent, ""),
            format!("{t}Mira is Ann's parent.")
        );
        assert_eq!(
            line(RelationshipMode::Child, ""),
            format!("{t}Mira is Ann's child.")
        );
        assert_eq!(
            line(RelationshipMode::Partner, ""),
            format!("{t}Mira and Ann are partners.")
        );
        assert_eq!(
            line(RelationshipMode::Custom, " rivals at court "),
            format!("{t}Relationship between Mira and Ann: rivals at court")
        );
    }

    #[test]
    fn summary_replaces_everything() {
        let p = CharacterPreferences {
            relationship: RelationshipMode::Friend,
            speech: vec![SpeechModifier::TalkLess],
            behaviour: vec![BehaviourModifier::BeWarm],
            summary: " Be gentle and brief. ".into(),
            ..Default::default()
        };
        assert_eq!(block(&p), "USER PREFERENCE MODIFIERS\nBe gentle and brief.");
    }

    #[test]
    fn contradictions_are_refused_naming_both() {
        let cases = [
            (
                vec![SpeechModifier::BeFormal, SpeechModifier::BeInformal],
                vec![],
                ("be_formal", "be_informal"),
            ),
            (
                vec![],
                vec![BehaviourModifier::BeCold, BehaviourModifier::BeWarm],
                ("be_warm", "be_cold"),
            ),
            (
                vec![],
                vec![BehaviourModifier::BeFunny, BehaviourModifier::BeSerious],
                ("be_funny", "be_serious"),
            ),
        ];
        for (speech, behaviour, (a, b)) in cases {
            let p = CharacterPreferences {
                speech,
                behaviour,
                summary: "even with a summary".into(),
                ..Default::default()
            };
            for err in [
                validate_preferences(&p).unwrap_err(),
                preference_block(&p, "M", "A").unwrap_err(),
            ] {
                assert!(matches!(err, Error::InvalidInput(_)));
                let msg = err.to_string();
                assert!(msg.contains(a) && msg.contains(b), "{msg}");
            }
        }
    }
}
