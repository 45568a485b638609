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
    // Proto3 JSON (what the SDK's docs and tools write) spells 64-bit integers as strings:
    // proposal files may say `"height": "2043"` as well as `"height": 2043`.
    for file in &descriptors.file {
        let package = file.package.clone().unwrap_or_default();
        for message in &file.message_type {
            int64_fields(&mut config, &format!(".{package}"), message);
        }
    }
    // Proposal files may name a tripwire's kind rather than number it.
    config.field_attribute(
        ".caspur.dcert.v1.Tripwire.kind",
        "#[serde(deserialize_with = \"crate::json_int::tripwire_kind\")]",
    );
    config.compile_fds(descriptors)?;
    Ok(())
}

/// Protobuf field types that are 64-bit integers (int64, uint64, fixed64, sfixed64, sint64).
const INT64_TYPES: &[i32] = &[3, 4, 6, 16, 18];
/// `LABEL_REPEATED`.
const REPEATED: i32 = 3;

/// Marks every plain 64-bit integer field of `message` (and its nested messages) to accept a
/// JSON string too.
fn int64_fields(
    config: &mut prost_build::Config,
    scope: &str,
    message: &prost_types::DescriptorProto,
) {
    let path = format!("{scope}.{}", message.name.clone().unwrap_or_default());
    for field in &message.field {
        let plain = field.oneof_index.is_none()
            && field.proto3_optional != Some(true)
            && field.label != Some(REPEATED);
        if plain && field.r#type.is_some_and(|t| INT64_TYPES.contains(&t)) {
            let name = field.name.clone().unwrap_or_default();
            config.field_attribute(
                format!("{path}.{name}"),
                "#[serde(deserialize_with = \"crate::json_int::int_or_string\")]",
            );
        }
    }
    for nested in &message.nested_type {
        int64_fields(config, &path, nested);
    }
}
