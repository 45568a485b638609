//! Generates Rust types for Caspur's own protobuf packages (`proto/caspur/…`) with protox, so
//! building needs no system `protoc`. Cosmos types they import map to `cosmos-sdk-proto`.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "caspur/dcert/v1/dcert.proto",
    "caspur/dcert/v1/tx.proto",
    "caspur/dcert/v1/query.proto",
    "caspur/circuit/v1/query.proto",
    "caspur/upgrade/v1/upgrade.proto",
    "caspur/upgrade/v1/tx.proto",
    "caspur/upgrade/v1/query.proto",
    "caspur/incident/v1/incident.proto",
    "caspur/incident/v1/tx.proto",
    "caspur/incident/v1/query.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let files: Vec<PathBuf> = FILES.iter().map(|f| root.join(f)).collect();
    let descriptors = protox::compile(&files, [root.clone(), root.join("third_party")])?;
    let mut config = prost_build::Config::new();
    config.extern_path(
        ".cosmos.base.v1beta1",
        "::cosmos_sdk_proto::cosmos::base::v1beta1",
    );
    // JSON forms for CLI output and proposal files (the Cosmos types already have them).
    config.type_attribute(".caspur", "#[derive(serde::Serialize, serde::Deserialize)]");
    config.message_attribute(".caspur", "#[serde(default)]");
    config.compile_fds(descriptors)?;
    Ok(())
}
