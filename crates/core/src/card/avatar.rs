//! Avatar images: telling formats apart by their bytes, transcoding to PNG for
//! export, and the placeholder for a card that has no picture.

use std::io::Cursor;

use crate::error::Error;

/// The MIME type of an image by its magic bytes; `None` when it is not an image Confab knows.
pub(crate) fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(super::png::SIGNATURE) {
        Some("image/png")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.get(4..12) == Some(b"ftypavif") || bytes.get(4..12) == Some(b"ftypavis") {
        Some("image/avif")
    } else {
        None
    }
}

/// The usual file extension for an image MIME type.
pub(crate) fn ext_for_mime(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/webp" => "webp",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/avif" => "avif",
        _ => "bin",
    }
}

/// Decodes any supported image and encodes it as PNG.
pub(crate) fn to_png(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let img = image::load_from_memory(bytes).map_err(|e| {
        Error::InvalidInput(format!(
            "The avatar image could not be read to make a PNG card ({e})."
        ))
    })?;
    encode_png(&img)
}

fn encode_png(img: &image::DynamicImage) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("encoding the card's PNG failed: {e}")))?;
    Ok(out)
}

/// A 400x600 vertical gradient in a colour picked from the name: small and calm.
pub(crate) fn placeholder(name: &str) -> Result<Vec<u8>, Error> {
    let hue = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
        % 360;
    let (top, bottom) = (hsl(hue as f32, 0.35, 0.55), hsl(hue as f32, 0.40, 0.22));
    let img = image::RgbImage::from_fn(400, 600, |_, y| {
        let t = y as f32 / 599.0;
        let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t).round() as u8;
        image::Rgb([
            mix(top[0], bottom[0]),
            mix(top[1], bottom[1]),
            mix(top[2], bottom[2]),
        ])
    });
    encode_png(&image::DynamicImage::ImageRgb8(img))
}

fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match h as u32 {
        0..=59 => (c, x, 0.0),
        60..=119 => (x, c, 0.0),
        120..=179 => (0.0, c, x),
        180..=239 => (0.0, x, c),
        240..=299 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let f = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [f(r), f(g), f(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_is_a_small_png() {
        let png = placeholder("Seraphina").unwrap();
        assert_eq!(sniff_image(&png), Some("image/png"));
        assert!(png.len() < 20_000, "{} bytes", png.len());
    }
}
