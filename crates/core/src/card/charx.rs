//! CHARX: a zip holding `card.json` (V3) and the files its `data.assets` point
//! at with `embeded://path` (the spec's spelling; `embedded://` is accepted too).
//!
//! Hostile archives are refused before anything is unpacked: too many entries,
//! too many bytes in total (declared sizes checked first, real bytes counted
//! while reading), a compression ratio only a zip bomb has, and paths that
//! could escape a folder (absolute, `..`, backslashes, drive letters).
//!
//! Files the card does not list (RisuAI's `module.risum`, `x_meta/*.json`, ...)
//! are kept as [`EmbeddedAsset`]s with an empty `kind`, and written back
//! unlisted, so an export loses nothing.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read, Write};

use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::avatar::{ext_for_mime, sniff_image};
use super::limits::{size_words, Limits};
use super::model::{AssetRef, CardData, CardFormat};
use super::payload::parse_json;
use super::{normalize, EmbeddedAsset, Image, ParsedCard};
use crate::error::Error;

/// Entries smaller than this are not held to the ratio limit (tiny files of
/// repeated bytes compress absurdly well and harm no one).
const RATIO_FLOOR: u64 = 1024 * 1024;
/// Missing listed assets named one by one in the warnings; the rest are counted.
const MAX_MISSING_WARNINGS: usize = 20;

/// The path an `embeded://` or `embedded://` URI points at.
pub(crate) fn embedded_path(uri: &str) -> Option<&str> {
    uri.strip_prefix("embeded://")
        .or_else(|| uri.strip_prefix("embedded://"))
        .map(|p| p.trim_start_matches("./"))
}

/// Whether a path inside an archive stays inside the folder it is unpacked to.
pub(crate) fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && !path.split('/').any(|c| c == ".." || c.contains(':'))
}

fn invalid(file: &str, detail: impl Into<String>) -> Error {
    Error::InvalidCard {
        file: file.to_owned(),
        detail: detail.into(),
    }
}

fn zip_error(file: &str, e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::UnsupportedArchive(what) => invalid(
            file,
            format!("its zip archive uses something Confab does not support ({what})"),
        ),
        other => invalid(file, format!("its zip archive is damaged ({other})")),
    }
}

/// Reads a CHARX card.
pub(crate) fn read(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(file, e))?;
    if archive.len() > limits.max_charx_entries {
        return Err(Error::TooLarge {
            what: format!("The number of files in {file}"),
            limit: format!("{} files", limits.max_charx_entries),
        });
    }
    let too_much = || Error::TooLarge {
        what: format!("The unpacked contents of {file}"),
        limit: size_words(limits.max_charx_total_bytes),
    };

    // Pass 1: names and declared sizes only; nothing is inflated yet.
    let mut declared_total: u64 = 0;
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| zip_error(file, e))?;
        let name = entry.name().map_err(|e| zip_error(file, e))?.into_owned();
        if !is_safe_path(&name) {
            return Err(invalid(
                file,
                format!("it contains a file with an unsafe path ({name:?}) that could write outside its folder"),
            ));
        }
        if entry.is_dir() {
            continue;
        }
        let size = entry.size();
        declared_total = declared_total.saturating_add(size);
        if declared_total > limits.max_charx_total_bytes {
            return Err(too_much());
        }
        if size > RATIO_FLOOR && size / entry.compressed_size().max(1) > limits.max_charx_ratio {
            return Err(Error::TooLarge {
                what: format!("The compression ratio of {name} in {file} (a zip bomb?)"),
                limit: format!("{} to 1", limits.max_charx_ratio),
            });
        }
        entries.push((i, name, size));
    }

    // Pass 2: inflate, counting real bytes against the declared size and the total.
    let mut remaining = limits.max_charx_total_bytes;
    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(entries.len());
    for (i, name, size) in entries {
        let entry = archive.by_index(i).map_err(|e| zip_error(file, e))?;
        let budget = size.min(remaining);
        let mut buf = Vec::with_capacity(budget.min(16 * 1024 * 1024) as usize);
        entry
            .take(budget.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| {
                invalid(
                    file,
                    format!("{name} in its zip archive cannot be unpacked ({e})"),
                )
            })?;
        let got = buf.len() as u64;
        if got > size {
            // More bytes than the header declared: a lying header is how bombs slip through.
            return Err(too_much());
        }
        remaining = remaining.saturating_sub(got);
        files.push((name, buf));
    }

    let card_pos = files
        .iter()
        .position(|(n, _)| n == "card.json")
        .or_else(|| {
            files
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case("card.json"))
        })
        .ok_or_else(|| invalid(file, "its zip archive has no card.json"))?;
    let (_, card_bytes) = files.remove(card_pos);
    let mut warnings = Vec::new();
    // Another `card.json` in other letters is no asset, and could not be
    // written back (it would clash with the card on Windows and macOS).
    let before = files.len();
    files.retain(|(n, _)| !n.eq_ignore_ascii_case("card.json"));
    if files.len() < before {
        warnings.push(format!(
            "The archive holds {} more copies of card.json in other letters; Confab read card.json and ignored them.",
            before - files.len()
        ));
    }
    let original = parse_json(&card_bytes, file, limits, &mut warnings)?;
    drop(card_bytes);
    let (data, spec) = normalize(&original, file)?;

    // Which listed asset each file is (first listing wins). Maps, not scans:
    // a card may list tens of thousands of assets beside thousands of files.
    let mut listings: HashMap<&str, (usize, &AssetRef)> = HashMap::with_capacity(data.assets.len());
    for (i, a) in data.assets.iter().enumerate() {
        if let Some(p) = embedded_path(&a.uri) {
            listings.entry(p).or_insert((i, a));
        }
    }
    let avatar_index = {
        let mut by_name: HashMap<&str, &[u8]> = HashMap::with_capacity(files.len());
        for (n, b) in &files {
            by_name.entry(n.as_str()).or_insert(b.as_slice());
        }
        avatar_asset_index(&data.assets, |path| by_name.get(path).copied())
    };

    let mut avatar = None;
    let mut assets = Vec::new();
    for (path, bytes) in files {
        match listings.get(path.as_str()) {
            Some(&(i, _)) if Some(i) == avatar_index && avatar.is_none() => {
                let mime = sniff_image(&bytes).unwrap_or("application/octet-stream");
                avatar = Some(Image { bytes, mime });
            }
            Some(&(_, a)) => assets.push(EmbeddedAsset {
                kind: a.kind.clone(),
                name: a.name.clone(),
                ext: a.ext.clone(),
                path,
                bytes,
            }),
            None => {
                let base = path.rsplit('/').next().unwrap_or(&path);
                let (name, ext) = base.rsplit_once('.').unwrap_or((base, ""));
                assets.push(EmbeddedAsset {
                    kind: String::new(),
                    name: name.to_owned(),
                    ext: ext.to_owned(),
                    path,
                    bytes,
                });
            }
        }
    }
    let present: HashSet<&str> = assets.iter().map(|e| e.path.as_str()).collect();
    let mut missing = 0usize;
    for (i, a) in data.assets.iter().enumerate() {
        if let Some(p) = embedded_path(&a.uri) {
            if Some(i) != avatar_index && !present.contains(p) {
                missing += 1;
                // One line per missing file is useful; ten thousand are not.
                if missing <= MAX_MISSING_WARNINGS {
                    warnings.push(format!(
                        "The card lists an asset \"{}\" at {p}, but the archive does not contain that file.",
                        a.name
                    ));
                }
            }
        }
    }
    if missing > MAX_MISSING_WARNINGS {
        warnings.push(format!(
            "{} more listed assets are missing from the archive.",
            missing - MAX_MISSING_WARNINGS
        ));
    }
    Ok(ParsedCard {
        data,
        spec,
        format: CardFormat::Charx,
        original,
        avatar,
        assets,
        warnings,
    })
}

/// The listed asset that is the avatar: the `icon` named `main`, else the first
/// `icon`, else the first embedded image. `file` finds an embedded file's bytes.
fn avatar_asset_index<'a>(
    assets: &[AssetRef],
    file: impl Fn(&str) -> Option<&'a [u8]>,
) -> Option<usize> {
    let present = |a: &AssetRef| embedded_path(&a.uri).and_then(&file);
    assets
        .iter()
        .position(|a| a.kind == "icon" && a.name == "main" && present(a).is_some())
        .or_else(|| {
            assets
                .iter()
                .position(|a| a.kind == "icon" && present(a).is_some())
        })
        .or_else(|| {
            assets
                .iter()
                .position(|a| present(a).and_then(sniff_image).is_some())
        })
}

/// Writes a CHARX: `card.json` (V3) whose `data.assets` point at the avatar
/// (as the `main` icon) and at every listed asset, plus the files themselves.
pub fn write_charx(
    data: &CardData,
    original: Option<&Value>,
    avatar: Option<&Image>,
    assets: &[EmbeddedAsset],
) -> Result<Vec<u8>, Error> {
    for a in assets {
        if !is_safe_path(&a.path) || a.path.eq_ignore_ascii_case("card.json") {
            return Err(Error::InvalidInput(format!(
                "The asset \"{}\" has a path ({:?}) that cannot be used inside a CHARX file.",
                a.name, a.path
            )));
        }
    }
    let asset_paths: HashSet<&str> = assets.iter().map(|a| a.path.as_str()).collect();
    // The avatar takes the place of the listed icon it came from, when there is one.
    let avatar_slot = avatar.and_then(|_| {
        let unprovided: Vec<AssetRef> = data
            .assets
            .iter()
            .map(|a| match embedded_path(&a.uri) {
                Some(p) if !asset_paths.contains(p) && is_safe_path(p) => a.clone(),
                // Hide entries that are not candidates for the avatar.
                _ => AssetRef {
                    kind: String::new(),
                    uri: String::new(),
                    name: String::new(),
                    ext: String::new(),
                },
            })
            .collect();
        let icon_ok = |a: &AssetRef| embedded_path(&a.uri).is_some();
        unprovided
            .iter()
            .position(|a| a.kind == "icon" && a.name == "main" && icon_ok(a))
            .or_else(|| {
                unprovided
                    .iter()
                    .position(|a| a.kind == "icon" && icon_ok(a))
            })
    });

    let mut listed: Vec<AssetRef> = Vec::with_capacity(data.assets.len() + assets.len() + 1);
    let mut avatar_path = None;
    for (i, a) in data.assets.iter().enumerate() {
        match embedded_path(&a.uri) {
            Some(p) if asset_paths.contains(p) => listed.push(a.clone()),
            Some(p) if Some(i) == avatar_slot => {
                avatar_path = Some(p.to_owned());
                listed.push(a.clone());
            }
            // An embedded file nobody provided: the listing would dangle.
            Some(_) => {}
            None => listed.push(a.clone()),
        }
    }
    if let (Some(img), None) = (avatar, &avatar_path) {
        let ext = ext_for_mime(img.mime);
        let path = format!("assets/icon/image/main.{ext}");
        listed.insert(
            0,
            AssetRef {
                kind: "icon".into(),
                uri: format!("embeded://{path}"),
                name: "main".into(),
                ext: ext.into(),
            },
        );
        avatar_path = Some(path);
    }
    let mut listed_paths: HashSet<String> = listed
        .iter()
        .filter_map(|l| embedded_path(&l.uri).map(str::to_owned))
        .collect();
    for a in assets.iter().filter(|a| !a.kind.is_empty()) {
        if listed_paths.insert(a.path.clone()) {
            listed.push(AssetRef {
                kind: a.kind.clone(),
                uri: format!("embeded://{}", a.path),
                name: a.name.clone(),
                ext: a.ext.clone(),
            });
        }
    }

    let mut card = super::json::to_v3_json(data, original);
    if let Some(Value::Object(inner)) = card.get_mut("data") {
        inner.insert(
            "assets".into(),
            serde_json::to_value(&listed).unwrap_or(Value::Array(Vec::new())),
        );
    }
    let card_json = serde_json::to_vec_pretty(&card).unwrap_or_default();

    let write_err = |e: &dyn std::fmt::Display| {
        Error::Internal(format!("writing the CHARX archive failed: {e}"))
    };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    // Images are compressed already; deflating them again only costs time.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("card.json", deflated)
        .map_err(|e| write_err(&e))?;
    zip.write_all(&card_json).map_err(|e| write_err(&e))?;
    let mut written: HashSet<String> = HashSet::from(["card.json".to_owned()]);
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    if let (Some(img), Some(path)) = (avatar, avatar_path.as_deref()) {
        files.push((path, &img.bytes));
    }
    files.extend(assets.iter().map(|a| (a.path.as_str(), a.bytes.as_slice())));
    for (path, bytes) in files {
        if !written.insert(path.to_owned()) {
            continue;
        }
        let options = if sniff_image(bytes).is_some() {
            stored
        } else {
            deflated
        };
        zip.start_file(path, options).map_err(|e| write_err(&e))?;
        zip.write_all(bytes).map_err(|e| write_err(&e))?;
    }
    let out = zip.finish().map_err(|e| write_err(&e))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_recognised() {
        for bad in [
            "../evil",
            "/abs",
            "a/../../b",
            "a\\..\\b",
            "C:/x",
            "",
            "a/..",
            "x\0y",
        ] {
            assert!(!is_safe_path(bad), "{bad:?}");
        }
        for good in [
            "card.json",
            "assets/icon/image/main.png",
            "x_meta/a.json",
            "a..b/c",
        ] {
            assert!(is_safe_path(good), "{good:?}");
        }
    }

    #[test]
    fn both_uri_spellings_resolve() {
        assert_eq!(
            embedded_path("embeded://assets/a.png"),
            Some("assets/a.png")
        );
        assert_eq!(
            embedded_path("embedded://assets/a.png"),
            Some("assets/a.png")
        );
        assert_eq!(embedded_path("ccdefault:"), None);
    }
}
