//! Running the docs' shell blocks as a reader would: read from the file, run in bash with
//! `caspurd` (and `caspurvisor`, the fixture) first on the PATH and HOME in a fresh directory.

use super::bin;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The non-blank lines of the first `sh` block under `heading` in the repo file `file`.
pub fn shell_block(file: &str, heading: &str) -> Vec<String> {
    let path = format!("{}/../../{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let section = text.split(heading).nth(1).expect("the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// bash running `script` in `dir` as a user whose HOME is `dir`, the target directory (with
/// `caspurd`, `caspurvisor` and the upgrade fixture) first on the PATH.
pub fn bash(dir: &Path, script: &str) -> Command {
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("HOME", dir)
        .env("PATH", path);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CASPUR")) {
        cmd.env_remove(k);
    }
    cmd
}

/// Processes started in the background by a shell, stopped (the whole process group) when
/// dropped.
pub struct Background(pub std::process::Child);

impl Background {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> Background {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        Background(cmd.spawn().unwrap())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}
