//! A fuzz-style loop over mutated cards (never a panic), and sloppy values
//! that read back the same after an export.

mod card_hostile_support;

use card_hostile_support::read;
use confab_core::card::normalize;
use serde_json::json;

// ---------- fuzz-style loop ----------

#[test]
fn mutated_cards_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cards/");
    let seeds = [
        "ccv3_over_chara__vibetavern.png",
        "ccv3_only__choral_Default-chan.png",
        "charx_small__tavernkit_test_character.charx",
        "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
        "v1_json_zh__mushoku_Roxy_stage1.json",
    ];
    let mut x: u64 = 42;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in seeds {
        let original = std::fs::read(format!("{dir}{seed}")).unwrap();
        for _ in 0..60 {
            let mut m = original.clone();
            for _ in 0..(1 + next() % 8) {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            if next() % 3 == 0 {
                m.truncate((next() as usize) % m.len());
            }
            let _ = read(&m, seed);
        }
    }
}

#[test]
fn sloppy_values_read_back_the_same_after_export() {
    // A bounded, deterministic property test: random sloppy values in every
    // field; whatever normalize makes of them must survive V3 and V2 export.
    let mut x: u64 = 7;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fields = [
        "name",
        "nickname",
        "description",
        "personality",
        "scenario",
        "first_mes",
        "mes_example",
        "alternate_greetings",
        "group_only_greetings",
        "system_prompt",
        "post_history_instructions",
        "creator_notes",
        "creator_notes_multilingual",
        "tags",
        "creator",
        "character_version",
        "source",
        "creation_date",
        "modification_date",
        "assets",
        "character_book",
        "extensions",
        "creatorcomment",
        "talkativeness",
    ];
    for _ in 0..400 {
        let mut pick = |n: u64| next() % n;
        let mut obj = serde_json::Map::new();
        for f in fields {
            let v = match pick(12) {
                0 => json!(null),
                1 => json!(" a\r\nb "),
                2 => json!(1_745_411_957_356u64),
                3 => json!("1700000000"),
                4 => json!(["x", null, 3, {"k": "v"}]),
                5 => json!("t1, t2,,"),
                6 => json!({"en": "hi", "ja": null}),
                7 => json!(-2.5e20),
                8 => json!(true),
                9 => json!([{"type": "icon", "uri": "embeded://a.png", "name": "main", "ext": 4}]),
                10 => continue,
                _ => json!(""),
            };
            obj.insert(f.to_owned(), v);
        }
        obj.insert("name".into(), json!("N"));
        let value = match pick(3) {
            0 => serde_json::Value::Object(obj),
            1 => json!({"spec": "chara_card_v2", "data": obj}),
            _ => json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": obj, "extra": 1}),
        };
        let (card, _) = normalize(&value, "p.json").unwrap();
        for out in [
            confab_core::card::to_v3_json(&card, Some(&value)),
            confab_core::card::to_v2_json(&card, Some(&value)),
        ] {
            let (again, _) = normalize(&out, "p.json").unwrap();
            assert_eq!(again, card, "{value}");
        }
    }
}
