//! JPEG cards: the card sits in an APP1 segment, as EXIF or as XMP.

const XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// The EXIF (TIFF) and XMP data of a JPEG's APP1 segments, up to the image data.
pub(crate) fn metadata(bytes: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let (mut exif, mut xmp) = (None, None);
    let mut pos = 2usize;
    while let Some(&[0xFF, marker]) = bytes.get(pos..pos.saturating_add(2)) {
        match marker {
            // Fill bytes before a marker.
            0xFF => {
                pos += 1;
                continue;
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => {
                pos += 2;
                continue;
            }
            // Start of scan or end of image: no metadata after this point.
            0xDA | 0xD9 => break,
            _ => {}
        }
        let Some(&[hi, lo]) = bytes.get(pos + 2..pos + 4) else {
            break;
        };
        let len = u16::from_be_bytes([hi, lo]) as usize;
        let end = (pos + 2).saturating_add(len).min(bytes.len());
        let data = bytes.get((pos + 4).min(end)..end).unwrap_or_default();
        if marker == 0xE1 {
            if data.starts_with(b"Exif\0\0") {
                exif = exif.or(Some(data));
            } else if let Some(x) = data.strip_prefix(XMP_HEADER) {
                xmp = xmp.or(Some(x));
            }
        }
        if len < 2 {
            break;
        }
        pos = end;
    }
    (exif, xmp)
}
