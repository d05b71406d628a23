//! The CLI's binary is its own template worker: started with
//! `CONFAB_TEMPLATE_WORKER=1` it serves renders instead of reading its
//! arguments, so a chat template that allocates without bound ends a worker,
//! not the command.

#[path = "../../../tests/worker_check/mod.rs"]
mod worker_check;

#[test]
fn the_cli_binary_serves_renders_and_a_runaway_template_ends_only_its_worker() {
    worker_check::serves_renders(env!("CARGO_BIN_EXE_confab"));
}
