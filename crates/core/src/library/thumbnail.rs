//! Small avatars for fast lists, made once at import.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::card::Image;
use crate::store::Thumbnail;

/// Thumbnails fit in this box (portrait, like most card art), at 2x for HiDPI screens.
pub const THUMB_WIDTH: u32 = 256;
/// See [`THUMB_WIDTH`].
pub const THUMB_HEIGHT: u32 = 384;
/// Images larger than this in either side are not decoded (a pixel bomb costs nothing).
const MAX_SIDE: u32 = 16_384;
/// Decoding may allocate at most this much.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// A JPEG thumbnail of `avatar`, or `None` when it cannot be decoded (the
/// original is still kept and shown in the detail view).
pub fn make_thumbnail(avatar: &Image) -> Option<Thumbnail> {
    let format = match avatar.mime {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/webp" => ImageFormat::WebP,
        _ => return None,
    };
    let mut reader = ImageReader::with_format(Cursor::new(&avatar.bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let decoded = reader.decode().ok()?;
    Some(encode(decoded))
}

fn encode(image: DynamicImage) -> Thumbnail {
    let small = if image.width() > THUMB_WIDTH || image.height() > THUMB_HEIGHT {
        // Triangle filtering: sharp enough at this size and several times faster than Lanczos.
        image.resize(
            THUMB_WIDTH,
            THUMB_HEIGHT,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image
    };
    // JPEG keeps thumbnails around 15 KB; flatten any transparency onto a soft grey.
    let rgba = small.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (x, y, p) in rgba.enumerate_pixels() {
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 0xE8 * (255 - a)) / 255) as u8;
        rgb.put_pixel(x, y, image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])]));
    }
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    // Encoding an in-memory RGB buffer into a Vec cannot fail.
    let _ = rgb.write_with_encoder(encoder);
    Thumbnail {
        bytes,
        mime: "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Image {
        let mut img = image::RgbaImage::new(width, height);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255]);
        }
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        Image {
            bytes,
            mime: "image/png",
        }
    }

    #[test]
    fn a_large_portrait_shrinks_into_the_box_keeping_its_shape() {
        let thumb = make_thumbnail(&png(800, 1200)).unwrap();
        assert_eq!(thumb.mime, "image/jpeg");
        let decoded = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (256, 384));
    }

    #[test]
    fn a_small_image_is_not_enlarged() {
        let thumb = make_thumbnail(&png(40, 60)).unwrap();
        let decoded = image::load_from_memory(&thumb.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (40, 60));
    }

    #[test]
    fn garbage_and_pixel_bombs_give_no_thumbnail_and_no_panic() {
        let garbage = Image {
            bytes: b"\x89PNG\r\n\x1a\nnot really".to_vec(),
            mime: "image/png",
        };
        assert!(make_thumbnail(&garbage).is_none());
        // A valid header claiming 100,000 x 100,000 pixels.
        let mut bomb = png(1, 1).bytes;
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let bomb = Image {
            bytes: bomb,
            mime: "image/png",
        };
        assert!(make_thumbnail(&bomb).is_none());
    }
}
