//! Every real-world fixture card reads with the right name, spec and format, and
//! survives a round trip through every writer.

use confab_core::card::{
    read_card, write_charx, write_json, write_png, CardData, CardFormat, CardSpec, Limits,
    ParsedCard,
};

const FIXTURES: &[&str] = &[
    "ccv3_chara_disagree__tavernkit_test_character.png",
    "ccv3_only__choral_Default-chan.png",
    "ccv3_over_chara__vibetavern.png",
    "ccv3_plus_chara__st_default_Seraphina.png",
    "charx_risu__RisuToki_veil_of_night.charx",
    "charx_small__tavernkit_test_character.charx",
    "v1_json_zh__mushoku_Roxy_stage1.json",
    "v1_png__st_Megumin.png",
    "v2_png__st_default_CodingSensei.png",
    "v2_png__st_default_FluxTheCat.png",
    "v2_png__st_default_Seraphina_2024.png",
    "v2_png__tldw_inkpot.png",
    "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
    "webp_exif_decbytes__TavernAI_Aqua.webp",
];

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/cards/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> ParsedCard {
    read_card(&bytes(name), name, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_reads_with_the_right_name_spec_and_format() {
    let expect: &[(&str, &str, CardSpec, CardFormat)] = &[
        (
            "ccv3_chara_disagree__tavernkit_test_character.png",
            "Test Character",
            CardSpec::V3,
            CardFormat::Png,
        ),
        (
            "ccv3_only__choral_Default-chan.png",
            "Default-chan",
            CardSpec::V3,
            CardFormat::Png,
        ),
        (
            "ccv3_over_chara__vibetavern.png",
            "V3",
            CardSpec::V3,
            CardFormat::Png,
        ),
        (
            "ccv3_plus_chara__st_default_Seraphina.png",
            "Seraphina",
            CardSpec::V3,
            CardFormat::Png,
        ),
        (
            "charx_risu__RisuToki_veil_of_night.charx",
            "The Veil of Night",
            CardSpec::V3,
            CardFormat::Charx,
        ),
        (
            "charx_small__tavernkit_test_character.charx",
            "Test Character",
            CardSpec::V3,
            CardFormat::Charx,
        ),
        (
            "v1_json_zh__mushoku_Roxy_stage1.json",
            "洛琪希·米格路迪亚",
            CardSpec::V1,
            CardFormat::Json,
        ),
        (
            "v1_png__st_Megumin.png",
            "Megumin",
            CardSpec::V1,
            CardFormat::Png,
        ),
        (
            "v2_png__st_default_CodingSensei.png",
            "Coding Sensei",
            CardSpec::V2,
            CardFormat::Png,
        ),
        (
            "v2_png__st_default_FluxTheCat.png",
            "Flux the Cat",
            CardSpec::V2,
            CardFormat::Png,
        ),
        (
            "v2_png__st_default_Seraphina_2024.png",
            "Seraphina",
            CardSpec::V2,
            CardFormat::Png,
        ),
        (
            "v2_png__tldw_inkpot.png",
            "Inkpot",
            CardSpec::V2,
            CardFormat::Png,
        ),
        (
            "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
            "Aqua",
            CardSpec::V1,
            CardFormat::Webp,
        ),
        (
            "webp_exif_decbytes__TavernAI_Aqua.webp",
            "Aqua",
            CardSpec::V1,
            CardFormat::Webp,
        ),
    ];
    assert_eq!(expect.len(), FIXTURES.len());
    for (file, name, spec, format) in expect {
        let card = read(file);
        assert_eq!(&card.data.name, name, "{file}");
        assert_eq!(card.spec, *spec, "{file}");
        assert_eq!(card.format, *format, "{file}");
        // vibe_tavern's tiny fixture has only a name and a greeting.
        if !file.starts_with("ccv3_over_chara") {
            assert!(
                !card.data.description.is_empty(),
                "{file}: empty description"
            );
            assert!(!card.data.first_mes.is_empty(), "{file}: empty first_mes");
        }
        assert!(card.original.is_object(), "{file}");
    }
}

#[test]
fn seraphina_keeps_her_greeting_book_and_extensions() {
    let card = read("ccv3_plus_chara__st_default_Seraphina.png");
    assert!(
        card.data.first_mes.starts_with("*You wake with a start"),
        "{}",
        card.data.first_mes
    );
    let book = card
        .data
        .character_book
        .as_ref()
        .expect("the embedded world book");
    assert_eq!(book["name"], "Eldoria");
    assert_eq!(book["entries"].as_array().map(Vec::len), Some(4));
    assert!(card.data.extensions.contains_key("talkativeness"));
    assert!(card.data.extensions.contains_key("depth_prompt"));
    assert!(card.warnings.is_empty(), "{:?}", card.warnings);
    assert_eq!(card.avatar.as_ref().map(|a| a.mime), Some("image/png"));
}

#[test]
fn ccv3_wins_over_chara() {
    assert_eq!(read("ccv3_over_chara__vibetavern.png").data.name, "V3");
    let tk = read("ccv3_chara_disagree__tavernkit_test_character.png");
    assert_eq!(tk.original["spec"], "chara_card_v3");
}

#[test]
fn tavern_kit_v3_fields_in_chara_extensions_are_kept() {
    // Strip the ccv3 chunk so the chara chunk (with extensions["cc_extractor/v3"]) is read.
    let png = bytes("ccv3_chara_disagree__tavernkit_test_character.png");
    let mut out = png[..8].to_vec();
    let mut pos = 8;
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let chunk = &png[pos..pos + 12 + len];
        if !chunk[8..].starts_with(b"ccv3\0") {
            out.extend_from_slice(chunk);
        }
        pos += 12 + len;
    }
    let card = read_card(&out, "tk.png", &Limits::default()).unwrap();
    assert_eq!(card.spec, CardSpec::V2);
    assert!(
        card.data.extensions.contains_key("cc_extractor/v3"),
        "{:?}",
        card.data.extensions.keys()
    );
    // And it survives export.
    let again = read_card(
        &write_png(&card.data, Some(&card.original), card.avatar.as_ref()).unwrap(),
        "x.png",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(again.data.extensions, card.data.extensions);
}

#[test]
fn v1_cards_read() {
    let roxy = read("v1_json_zh__mushoku_Roxy_stage1.json");
    assert!(roxy.data.description.contains("水蓝色"));
    assert!(!roxy.data.system_prompt.is_empty());
    let megumin = read("v1_png__st_Megumin.png");
    assert!(megumin.original.get("spec").is_none());
}

#[test]
fn both_tavernai_webps_read() {
    for f in [
        "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
        "webp_exif_decbytes__TavernAI_Aqua.webp",
    ] {
        let card = read(f);
        assert!(
            card.data
                .description
                .starts_with("Aqua is character from Konosuba"),
            "{f}"
        );
        assert_eq!(card.avatar.as_ref().map(|a| a.mime), Some("image/webp"));
    }
}

#[test]
fn risu_charx_keeps_its_assets_modules_and_extensions() {
    let card = read("charx_risu__RisuToki_veil_of_night.charx");
    let avatar = card.avatar.as_ref().expect("avatar");
    // RisuAI names WEBP files .png: the type comes from the bytes.
    assert_eq!(avatar.mime, "image/webp");
    assert!(card.data.extensions.contains_key("risuai"));
    assert!(card.data.character_book.is_some());
    // 58 entries less card.json and the main icon.
    assert_eq!(card.assets.len(), 56);
    let module = card
        .assets
        .iter()
        .find(|a| a.path == "module.risum")
        .expect("module.risum kept");
    assert_eq!(module.kind, "");
    assert!(card
        .assets
        .iter()
        .any(|a| a.kind == "icon" && a.name == "iconx"));
    // RisuAI writes creation_date in milliseconds.
    assert_eq!(card.data.creation_date, Some(1_745_411_957));
    assert!(card.original["data"]["creatorcomment"].is_string());
}

#[test]
fn small_charx_reads_its_icon() {
    let card = read("charx_small__tavernkit_test_character.charx");
    assert_eq!(card.avatar.as_ref().map(|a| a.mime), Some("image/png"));
    assert_eq!(card.assets.len(), 1);
    assert_eq!(card.assets[0].path, "assets/emotions/happy.png");
}

fn idat(png: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        if &png[pos + 4..pos + 8] == b"IDAT" {
            out.extend_from_slice(&png[pos + 8..pos + 8 + len]);
        }
        pos += 12 + len;
    }
    out
}

fn without_assets(d: &CardData) -> CardData {
    CardData {
        assets: Vec::new(),
        ..d.clone()
    }
}

#[test]
fn every_fixture_round_trips_through_png() {
    for f in FIXTURES {
        let card = read(f);
        let png = write_png(&card.data, Some(&card.original), card.avatar.as_ref()).unwrap();
        let back =
            read_card(&png, "out.png", &Limits::default()).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(back.data, card.data, "{f}");
        assert_eq!(back.spec, CardSpec::V3, "{f}");
        assert!(back.warnings.is_empty(), "{f}: {:?}", back.warnings);
        if card.format == CardFormat::Png {
            let src = bytes(f);
            assert_eq!(idat(&png), idat(&src), "{f}: pixels changed");
        }
        // Export is stable: writing the re-read card gives the same bytes.
        let png2 = write_png(&back.data, Some(&back.original), back.avatar.as_ref()).unwrap();
        assert_eq!(png2, png, "{f}: second export differs");
    }
}

#[test]
fn every_fixture_round_trips_through_json_v3_and_v2() {
    for f in FIXTURES {
        let card = read(f);
        for spec in [CardSpec::V3, CardSpec::V2] {
            let json = write_json(&card.data, Some(&card.original), spec);
            let back = read_card(&json, "out.json", &Limits::default())
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(back.data, card.data, "{f} {spec:?}");
            assert_eq!(back.spec, spec, "{f}");
            assert_eq!(back.format, CardFormat::Json);
            // Unknown top-level fields of the original survive.
            if let Some(o) = card.original.as_object() {
                if o.contains_key("data") {
                    for key in o
                        .keys()
                        .filter(|k| !["spec", "spec_version"].contains(&k.as_str()))
                    {
                        assert!(
                            back.original.get(key).is_some(),
                            "{f}: lost top-level {key}"
                        );
                    }
                    for key in o["data"].as_object().unwrap().keys() {
                        if !card.original["data"][key].is_null() {
                            assert!(
                                back.original["data"].get(key).is_some(),
                                "{f}: lost data.{key}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn every_fixture_round_trips_through_charx() {
    for f in FIXTURES {
        let card = read(f);
        let zip = write_charx(
            &card.data,
            Some(&card.original),
            card.avatar.as_ref(),
            &card.assets,
        )
        .unwrap();
        let back =
            read_card(&zip, "out.charx", &Limits::default()).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(back.format, CardFormat::Charx);
        assert_eq!(back.avatar, card.avatar, "{f}: avatar");
        assert_eq!(back.assets, card.assets, "{f}: assets");
        if card.format == CardFormat::Charx {
            assert_eq!(back.data, card.data, "{f}");
        } else {
            // The avatar is now listed as an icon (a PNG card listing one keeps its path).
            assert_eq!(
                without_assets(&back.data),
                without_assets(&card.data),
                "{f}"
            );
            if card.avatar.is_some() {
                assert!(back.data.assets.iter().any(|a| a.kind == "icon"), "{f}");
            }
        }
        // And a second trip is exact, listing included.
        let zip2 = write_charx(
            &back.data,
            Some(&back.original),
            back.avatar.as_ref(),
            &back.assets,
        )
        .unwrap();
        let back2 = read_card(&zip2, "out.charx", &Limits::default()).unwrap();
        assert_eq!(back2.data, back.data, "{f}: second trip");
        assert_eq!(back2.assets, back.assets, "{f}: second trip assets");
    }
}
