//! The character library: importing cards, listing, editing, exporting.

pub mod archive;
mod edit;
mod export;
mod identity;
mod import;
pub mod model;
mod thumbnail;

pub use edit::update_character;
pub use export::{
    default_export_dir, export_bytes, export_to_dir, extension, safe_file_stem, write_atomically,
    write_new_file, DICTIONARY_EXTENSION,
};
pub use identity::content_hash;
pub use import::{
    expand_paths, import_bytes, import_jobs, import_paths, Expansion, ImportJob, CARD_EXTENSIONS,
    MAX_DROP_FILES, MAX_FOLDER_TEXT_CARD_BYTES,
};
pub use model::*;
pub use thumbnail::{make_thumbnail, THUMB_HEIGHT, THUMB_WIDTH};
