//! The app's binary is its own template worker: started with
//! `CONFAB_TEMPLATE_WORKER=1` it serves renders instead of opening a window, so
//! a chat template that allocates without bound ends a worker, not Confab.

mod worker_check;

#[test]
fn the_app_binary_serves_renders_and_a_runaway_template_ends_only_its_worker() {
    worker_check::serves_renders(env!("CARGO_BIN_EXE_confab-app"));
}
