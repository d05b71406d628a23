//! Small avatars for fast lists, made once at import.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

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

/// Memory all thumbnail decodes together may hold at once, process-wide: an
/// import runs several files in parallel, and their worst cases must not add up.
const DECODE_BUDGET: u64 = MAX_ALLOC;

static DECODES: ByteBudget = ByteBudget::new(DECODE_BUDGET);

/// A JPEG thumbnail of `avatar`, or `None` when it cannot be decoded (the
/// original is still kept and shown in the detail view).
///
/// The image's header says how much its pixels need; the decode waits until
/// that much of [`DECODE_BUDGET`] is free, so parallel imports decode many
/// small avatars at once but only one huge one.
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
    let decoder = reader.into_decoder().ok()?;
    let pixels = decoder.total_bytes();
    if pixels > MAX_ALLOC {
        return None;
    }
    // The pixels, plus the resize's intermediate rows (box width x height, f32 RGBA).
    let (_, height) = decoder.dimensions();
    let need = pixels.saturating_add(u64::from(THUMB_WIDTH) * u64::from(height) * 16);
    let _reserved = DECODES.reserve(need);
    let decoded = DynamicImage::from_decoder(decoder).ok()?;
    Some(encode(decoded))
}

/// A counting semaphore of bytes for blocking threads.
struct ByteBudget {
    used: std::sync::Mutex<u64>,
    freed: std::sync::Condvar,
    total: u64,
}

/// Bytes taken from a [`ByteBudget`], given back on drop.
struct Reserved<'a> {
    budget: &'a ByteBudget,
    bytes: u64,
}

impl ByteBudget {
    const fn new(total: u64) -> Self {
        ByteBudget {
            used: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
            total,
        }
    }

    /// Waits until `bytes` (at most the whole budget) are free, and takes them.
    fn reserve(&self, bytes: u64) -> Reserved<'_> {
        let bytes = bytes.min(self.total);
        // A panic elsewhere while holding the lock leaves a plain number behind: still usable.
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used + bytes > self.total {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += bytes;
        Reserved {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Reserved<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(self.bytes);
        self.budget.freed.notify_all();
    }
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
    fn decodes_share_one_budget_across_threads() {
        let budget = std::sync::Arc::new(ByteBudget::new(100));
        let in_use = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (budget, in_use, most) = (budget.clone(), in_use.clone(), most.clone());
                std::thread::spawn(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    // 40 bytes each, and one asking for more than the whole budget.
                    let want = if i == 0 { 500 } else { 40 };
                    let r = budget.reserve(want);
                    let now = in_use.fetch_add(r.bytes, SeqCst) + r.bytes;
                    most.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    in_use.fetch_sub(r.bytes, SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(most.load(std::sync::atomic::Ordering::SeqCst) <= 100);
        assert_eq!(*budget.used.lock().unwrap(), 0);
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
