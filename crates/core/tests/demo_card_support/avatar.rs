//! Draws the demo character's avatar: Mira Vell, hooded, in brass spectacles,
//! holding a lantern at night beside the Archive's tower, with inkmoths about.
//! Pure arithmetic on pixels (signed distances, anti-aliased by one pixel), so
//! the picture is original, reproducible, and needs no drawing tool.

use image::{Rgb, RgbImage};

/// The avatar's size: a card's usual 2:3 portrait, small enough to ship.
pub const WIDTH: u32 = 320;
pub const HEIGHT: u32 = 480;

type Colour = [f32; 3];

fn hex(rgb: u32) -> Colour {
    [
        ((rgb >> 16) & 0xff) as f32 / 255.0,
        ((rgb >> 8) & 0xff) as f32 / 255.0,
        (rgb & 0xff) as f32 / 255.0,
    ]
}

fn mix(a: Colour, b: Colour, t: f32) -> Colour {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Coverage of a shape whose signed distance at the pixel is `d` (negative inside).
fn cover(d: f32) -> f32 {
    (0.5 - d).clamp(0.0, 1.0)
}

fn circle(x: f32, y: f32, cx: f32, cy: f32, r: f32) -> f32 {
    ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - r
}

/// An axis-aligned ellipse (approximate distance, good enough at this size).
fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> f32 {
    let k = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
    (k - 1.0) * rx.min(ry)
}

/// A rectangle with rounded corners, centred at (cx, cy).
fn rounded_rect(x: f32, y: f32, cx: f32, cy: f32, hw: f32, hh: f32, r: f32) -> f32 {
    let qx = (x - cx).abs() - hw + r;
    let qy = (y - cy).abs() - hh + r;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - r
}

/// A ring (a circle's outline) of thickness `t`.
fn ring(x: f32, y: f32, cx: f32, cy: f32, r: f32, t: f32) -> f32 {
    circle(x, y, cx, cy, r).abs() - t / 2.0
}

/// A segment from a to b of thickness `t`.
fn segment(x: f32, y: f32, a: (f32, f32), b: (f32, f32), t: f32) -> f32 {
    let (px, py) = (x - a.0, y - a.1);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let h = ((px * dx + py * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    ((px - dx * h).powi(2) + (py - dy * h).powi(2)).sqrt() - t / 2.0
}

/// The figure's body: a trapezoid from the shoulders down, its top corners rounded.
fn body(x: f32, y: f32) -> f32 {
    let top = 292.0;
    if y < top {
        // Shoulders: a wide ellipse caps the trapezoid.
        return ellipse(x, y, 160.0, top + 8.0, 82.0, 34.0);
    }
    let t = (y - top) / (HEIGHT as f32 - top);
    let half = 82.0 + t * 48.0;
    (x - 160.0).abs() - half
}

/// Deterministic "random" numbers, so every build draws the same stars.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as f32) / ((1u64 << 31) as f32)
    }
}

/// Draws the avatar.
pub fn draw() -> RgbImage {
    let sky_top = hex(0x141833);
    let sky_bottom = hex(0x2b4356);
    let tower = hex(0x1d2236);
    let window = hex(0xf2b34f);
    let cloak = hex(0x39405c);
    let cloak_lit = hex(0x9a6a45);
    let skin = hex(0xe9c3a0);
    let hair = hex(0x5a3424);
    let brass = hex(0xd9a441);
    let ink = hex(0x161826);
    let flame = hex(0xffe3a1);
    let glow = hex(0xffb347);

    let lantern = (222.0_f32, 352.0_f32);

    let mut rng = Lcg(0x00C0_FFAB);
    let stars: Vec<(f32, f32, f32)> = (0..70)
        .map(|_| {
            (
                rng.next() * WIDTH as f32,
                rng.next() * 230.0,
                0.35 + rng.next() * 0.65,
            )
        })
        .collect();
    let moths: [(f32, f32, f32); 5] = [
        (262.0, 300.0, 0.2),
        (246.0, 268.0, -0.4),
        (284.0, 338.0, 0.5),
        (196.0, 404.0, -0.2),
        (270.0, 236.0, 0.1),
    ];

    let mut img = RgbImage::new(WIDTH, HEIGHT);
    for (px, py, out) in img.enumerate_pixels_mut() {
        let (x, y) = (px as f32 + 0.5, py as f32 + 0.5);

        // Sky: a night gradient with stars.
        let mut c = mix(sky_top, sky_bottom, y / HEIGHT as f32);
        for &(sx, sy, b) in &stars {
            let d = ((x - sx).powi(2) + (y - sy).powi(2)).sqrt();
            c = mix(c, hex(0xfdf6e3), b * (1.0 - d / 1.6).clamp(0.0, 1.0));
        }
        // A thin crescent moon, top left.
        let moon = circle(x, y, 62.0, 62.0, 20.0).max(-circle(x, y, 71.0, 56.0, 18.0));
        c = mix(c, hex(0xf6ecc9), cover(moon));

        // The Archive's round tower behind, with a conical roof and lit windows.
        let tower_body = ((x - 44.0).abs() - 40.0).max(150.0 - y);
        let roof = {
            // A triangle on the tower's top, from (4,150) and (84,150) up to (44,92).
            let base = y - 150.0;
            let slope = ((x - 44.0).abs() * 58.0 - (y - 92.0) * 40.0) / 58.0f32.hypot(40.0);
            base.max(slope)
        };
        c = mix(c, tower, cover(tower_body.min(roof)));
        for &(wx, wy) in &[(30.0, 186.0), (58.0, 232.0), (30.0, 282.0), (58.0, 330.0)] {
            let w = rounded_rect(x, y, wx, wy, 6.0, 10.0, 5.0);
            c = mix(c, window, cover(w));
            let halo = (1.0 - circle(x, y, wx, wy, 0.0) / 26.0).clamp(0.0, 1.0);
            c = mix(c, window, 0.18 * halo * halo * cover(tower_body));
        }

        // The lantern's glow over everything behind the figure.
        let dl = circle(x, y, lantern.0, lantern.1, 0.0);
        let warm = (1.0 - dl / 190.0).clamp(0.0, 1.0).powf(2.2);
        c = mix(c, glow, 0.7 * warm);

        // The figure: body, then a hood around the face.
        let hood = circle(x, y, 160.0, 226.0, 64.0).max(y - 300.0);
        let figure = body(x, y).min(hood);
        // Lit from the lantern's side: warmer toward lower right.
        let lit = ((x - 120.0) / 150.0).clamp(0.0, 1.0) * (0.35 + 0.65 * warm);
        let cloth = mix(cloak, cloak_lit, lit);
        c = mix(c, cloth, cover(figure));
        // A fold down the front of the coat and a collar line.
        c = mix(
            c,
            mix(cloth, ink, 0.35),
            cover(segment(x, y, (160.0, 318.0), (152.0, 480.0), 3.0)),
        );
        // The hood's opening, in shadow.
        c = mix(
            c,
            mix(cloak, ink, 0.55),
            cover(ellipse(x, y, 160.0, 238.0, 46.0, 54.0)),
        );
        // Hair framing the face.
        c = mix(
            c,
            hair,
            cover(ellipse(x, y, 160.0, 226.0, 40.0, 40.0).max(y - 250.0)),
        );
        // The face, lit warmly on the right.
        let face = ellipse(x, y, 160.0, 246.0, 31.0, 37.0);
        let face_colour = mix(
            skin,
            hex(0xffd6a8),
            ((x - 150.0) / 40.0).clamp(0.0, 1.0) * 0.5,
        );
        c = mix(c, face_colour, cover(face));
        // A fringe across the forehead.
        c = mix(
            c,
            hair,
            cover(ellipse(x, y, 156.0, 214.0, 34.0, 14.0).max(y - 222.0)),
        );
        // Eyes behind round brass spectacles.
        for ex in [147.0, 173.0] {
            c = mix(c, ink, cover(circle(x, y, ex, 244.0, 2.6)));
            c = mix(c, brass, cover(ring(x, y, ex, 244.0, 10.0, 2.4)));
            // A glint on the glass.
            c = mix(
                c,
                hex(0xfff4d6),
                0.8 * cover(circle(x, y, ex + 4.0, 240.0, 1.6)),
            );
        }
        c = mix(
            c,
            brass,
            cover(segment(x, y, (157.0, 243.0), (163.0, 243.0), 2.2)),
        );
        // A small smile and a blush.
        let smile = ring(x, y, 160.0, 258.0, 9.0, 2.0).max(262.0 - y);
        c = mix(c, hex(0x9c5a48), cover(smile));
        for bx in [140.0, 180.0] {
            let blush = (1.0 - circle(x, y, bx, 260.0, 0.0) / 8.0).clamp(0.0, 1.0);
            c = mix(c, hex(0xe59a86), 0.35 * blush * cover(face));
        }
        // A brass key ring on the belt.
        c = mix(c, brass, cover(ring(x, y, 128.0, 392.0, 8.0, 2.2)));
        c = mix(
            c,
            brass,
            cover(segment(x, y, (126.0, 400.0), (122.0, 418.0), 2.4)),
        );

        // The lantern: a hand, a handle, a glowing glass body in a dark frame.
        c = mix(
            c,
            face_colour,
            cover(ellipse(x, y, lantern.0, 318.0, 10.0, 8.0)),
        );
        c = mix(
            c,
            ink,
            cover(ring(x, y, lantern.0, 326.0, 7.0, 2.2).max(y - 326.0)),
        );
        let frame = rounded_rect(x, y, lantern.0, lantern.1, 17.0, 22.0, 4.0);
        c = mix(c, ink, cover(frame));
        let glass = rounded_rect(x, y, lantern.0, lantern.1, 13.0, 18.0, 3.0);
        let core = (1.0 - dl / 16.0).clamp(0.0, 1.0);
        c = mix(c, mix(glow, flame, core), cover(glass));
        c = mix(
            c,
            ink,
            cover(segment(x, y, (lantern.0, 334.0), (lantern.0, 370.0), 1.6)),
        );
        c = mix(
            c,
            ink,
            cover(rounded_rect(x, y, lantern.0, 332.0, 19.0, 3.0, 1.5)),
        );
        c = mix(
            c,
            ink,
            cover(rounded_rect(x, y, lantern.0, 374.0, 19.0, 3.0, 1.5)),
        );
        // The flame's own bloom on top.
        c = mix(c, flame, 0.45 * (1.0 - dl / 40.0).clamp(0.0, 1.0).powi(2));

        // Inkmoths drawn to the light: two dark wings each, with a faint rim.
        for &(mx, my, tilt) in &moths {
            let (s, co) = tilt.sin_cos();
            let (rx, ry) = ((x - mx) * co + (y - my) * s, -(x - mx) * s + (y - my) * co);
            let wings =
                ellipse(rx, ry, -4.5, 0.0, 5.0, 3.2).min(ellipse(rx, ry, 4.5, 0.0, 5.0, 3.2));
            c = mix(c, mix(ink, glow, 0.35), cover(wings - 1.0));
            c = mix(c, ink, cover(wings));
        }

        // A soft vignette.
        let vx = (x / WIDTH as f32 - 0.5) * 2.0;
        let vy = (y / HEIGHT as f32 - 0.5) * 2.0;
        let v = 1.0 - 0.22 * (vx * vx + vy * vy).min(1.6) / 1.6;
        c = [c[0] * v, c[1] * v, c[2] * v];

        *out = Rgb(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
    }
    img
}
