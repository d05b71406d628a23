//! Files named on the command line are read as the app reads them: a link to a
//! device or a FIFO is refused with a typed error at once, never read forever.

use std::path::Path;
use std::process::{Command, Output};

fn confab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .output()
        .expect("confab runs")
}

fn error_code(out: &Output) -> String {
    let value: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("JSON on stdout: {}", String::from_utf8_lossy(&out.stdout)));
    value["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(unix)]
#[test]
fn a_link_to_dev_zero_is_refused_by_every_command_that_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let zero = dir.path().join("book.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let zero = zero.to_str().unwrap();
    for args in [
        vec!["lore", "import", zero],
        vec!["lore", "test", zero, "--chat", zero],
        vec!["chat", "import", zero, "--character", "x"],
        vec!["context", "set", zero],
        vec!["preferences", "set", "x", zero],
    ] {
        let mut with_json = args.clone();
        with_json.push("--json");
        let out = confab(&data, &with_json);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(error_code(&out), "invalid_input", "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("not a regular file"),
            "{args:?}"
        );
    }
}
