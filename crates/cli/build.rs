//! Build facts for `caspurd version --long`: the git commit (or "unknown" outside a checkout),
//! the compiler, the target and the profile.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = output("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CASPUR_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=CASPUR_RUSTC_VERSION={version}");
    for (name, var) in [("CASPUR_TARGET", "TARGET"), ("CASPUR_PROFILE", "PROFILE")] {
        let value = std::env::var(var).unwrap_or_else(|_| "unknown".into());
        println!("cargo:rustc-env={name}={value}");
    }
    // A new commit changes the answer; the workspace's .git is two levels up.
    for path in ["../../.git/HEAD", "../../.git/refs/heads"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
