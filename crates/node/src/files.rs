//! Small node-local files (cursors, the firing alerts): written whole and atomically, so a
//! crash leaves the old content or the new, never half of one.

use serde::Serialize;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Saves `value` as JSON at `path` atomically; a failure is logged as `what`, not returned
/// (the caller goes on: these files only spare work after a restart).
pub fn save_json<T: Serialize>(path: &Path, value: &T, what: &str) {
    let written = serde_json::to_vec_pretty(value)
        .map_err(std::io::Error::other)
        .and_then(|b| write_atomic(path, &b));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot save {what}");
    }
}
