//! Start-up: the app's log (`CONFAB_LOG`), the steps of a cold start it records
//! (`make figures` prints them as a timeline), and how WebKitGTK is set up to
//! spend less memory.

use std::str::FromStr;

use tauri::Runtime;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// The log's target for the start-up steps: `CONFAB_LOG=confab_app::startup=info` shows them.
pub const TARGET: &str = "confab_app::startup";

/// Sends `tracing` events to stderr, filtered by `CONFAB_LOG` (tracing's target
/// syntax, e.g. `info` or `confab_app::startup=info`); warnings and errors only
/// when it is unset or cannot be read.
pub fn init_log() {
    let asked = std::env::var("CONFAB_LOG").ok();
    let parsed = asked.as_deref().map(Targets::from_str);
    let filter = match &parsed {
        Some(Ok(targets)) => targets.clone(),
        _ => Targets::new().with_default(tracing::Level::WARN),
    };
    // Another subscriber already set (a test harness) is fine: events go there.
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .try_init();
    if let Some(Err(e)) = parsed {
        tracing::warn!("CONFAB_LOG is not a log filter ({e}); logging warnings only");
    }
}

/// One step of the cold start, logged at info level with the process id (the
/// figures script tells launches apart by it).
pub fn step(phase: &str) {
    tracing::info!(target: TARGET, phase, pid = std::process::id(), "start-up");
}

/// Set to `1` to keep WebKitGTK's GPU rendering (see [`prepare_webkit`] and [`tune_webkit`]).
pub const GPU_ENV: &str = "CONFAB_WEBKIT_GPU";

fn gpu_wanted() -> bool {
    gpu_asked(std::env::var_os(GPU_ENV).as_deref())
}

/// Whether `CONFAB_WEBKIT_GPU` (given its value) asks for WebKit's GPU rendering.
fn gpu_asked(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| v == "1")
}

/// Whether to turn WebKit's DMA-BUF renderer off, given `CONFAB_WEBKIT_GPU` and
/// the user's own `WEBKIT_DISABLE_DMABUF_RENDERER` (theirs always wins).
fn disable_dmabuf(gpu: Option<&std::ffi::OsStr>, theirs: Option<&std::ffi::OsStr>) -> bool {
    !gpu_asked(gpu) && theirs.is_none()
}

/// Before GTK and WebKit start (they read it once): on Linux, WebKitGTK's DMA-BUF
/// renderer is turned off unless the user chose otherwise (`WEBKIT_DISABLE_DMABUF_RENDERER`
/// already set, or `CONFAB_WEBKIT_GPU=1`). With the webview drawn by the CPU (see
/// [`tune_webkit`]) it has nothing to carry, yet it sets up EGL in both processes
/// (~10 MB, `make figures`). It is WebKit's own fallback for desktops without DMA-BUF,
/// and the usual cure for blank windows on some NVIDIA drivers: safe on any desktop.
/// Must run before any other thread starts (it sets an environment variable).
pub fn prepare_webkit() {
    #[cfg(target_os = "linux")]
    if disable_dmabuf(
        std::env::var_os(GPU_ENV).as_deref(),
        std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").as_deref(),
    ) {
        // SAFETY of set_var: called first thing in `run`, before any thread exists.
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
}

/// Sets up a window's webview for this app (see [`tune_webkit`]). Elsewhere the
/// system webview's defaults are kept.
pub fn tune_webview<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        // The closure runs on the main thread; a window already gone is no loss.
        let _ = window.with_webview(|webview| tune_webkit(&webview.inner()));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// WebKitGTK: the page is drawn by the CPU (hardware-acceleration policy "never"),
/// unless `CONFAB_WEBKIT_GPU=1`. Accelerated compositing costs the web process
/// ~85 MB of GL buffers and driver state (`make figures`, release: 222 → 134 MB as if alone,
/// idle) for a page of text, lists and a few images, which the CPU draws at ease;
/// the app uses no WebGL. (The "document viewer" cache model and turning the page
/// cache off were tried too and changed nothing measurable: this app has one page.)
#[cfg(target_os = "linux")]
fn tune_webkit(view: &webkit2gtk::WebView) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
    if gpu_wanted() {
        return;
    }
    if let Some(settings) = WebViewExt::settings(view) {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
    }
}

/// Renders models' Jinja chat templates in a worker started from this binary
/// (`main` serves as one when asked), so a crafted template that exhausts
/// memory takes down the worker, not the app.
pub fn isolate_template_renders() {
    match std::env::current_exe() {
        Ok(exe) => confab_core::template::isolate_renders(exe),
        Err(e) => {
            tracing::warn!("chat templates render in process: this binary's path is unknown ({e})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_dmabuf_renderer_goes_off_unless_the_user_chose() {
        assert!(disable_dmabuf(None, None));
        assert!(disable_dmabuf(Some(OsStr::new("0")), None));
        // CONFAB_WEBKIT_GPU=1 keeps WebKit's defaults; the user's own setting is left alone.
        assert!(!disable_dmabuf(Some(OsStr::new("1")), None));
        assert!(!disable_dmabuf(None, Some(OsStr::new("0"))));
        assert!(!disable_dmabuf(None, Some(OsStr::new("1"))));
    }
}
