//! WEBP cards: the card sits in the RIFF `EXIF` chunk (TavernAI) or `XMP ` chunk.

/// The `EXIF` and `XMP ` chunk data of a RIFF/WEBP file.
pub(crate) fn metadata(bytes: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let (mut exif, mut xmp) = (None, None);
    let mut pos = 12usize;
    while let Some(header) = bytes.get(pos..pos.saturating_add(8)) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let start = pos + 8;
        // A chunk that runs past the end is read as far as it goes.
        let end = start.saturating_add(size).min(bytes.len());
        let data = bytes.get(start..end).unwrap_or_default();
        match header.get(0..4) {
            Some(b"EXIF") => exif = exif.or(Some(data)),
            Some(b"XMP ") => xmp = xmp.or(Some(data)),
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = start.saturating_add(size).saturating_add(size & 1);
    }
    (exif, xmp)
}
