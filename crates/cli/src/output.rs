//! `-o json|text` output.

use serde_json::Value;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compact JSON on one line.
    Json,
    /// Indented `key: value` text.
    Text,
}

/// Prints a value in the chosen format.
pub fn print(value: &Value, format: Format) {
    match format {
        Format::Json => println!("{value}"),
        Format::Text => {
            let mut out = String::new();
            text(value, 0, &mut out);
            print!("{out}");
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn text(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        text(v, indent + 1, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        text(v, indent + 1, out);
                    }
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        text(item, indent + 1, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}
