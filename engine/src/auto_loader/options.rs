//! Auto Loader's options (`cloudFiles.*` and the format options it passes on), read as
//! Databricks documents them: https://docs.databricks.com/en/ingestion/cloud-object-storage/auto-loader/options.html

use crate::error::{Error, Result};

/// How a file with a column the schema lacks is handled (`cloudFiles.schemaEvolutionMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvolutionMode {
    /// The stream stops with `UNKNOWN_FIELD_EXCEPTION`, the new schema is recorded at the schema
    /// location, and the restart reads the file with it (the default without a given schema).
    AddNewColumns,
    /// The schema never changes; new columns go to the rescued data column.
    Rescue,
    /// The stream stops and the schema is not updated.
    FailOnNewColumns,
    /// New columns are ignored (rescued only when `rescuedDataColumn` is set); the default
    /// with a given schema.
    None,
}

impl EvolutionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            EvolutionMode::AddNewColumns => "addNewColumns",
            EvolutionMode::Rescue => "rescue",
            EvolutionMode::FailOnNewColumns => "failOnNewColumns",
            EvolutionMode::None => "none",
        }
    }
}

/// The file formats this version reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON Lines: one object a line.
    Json,
    Csv,
}

impl FileFormat {
    pub fn parse(s: &str, at: &str) -> Result<FileFormat> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(FileFormat::Json),
            "csv" => Ok(FileFormat::Csv),
            _ => Err(Error::invalid_input(format!("{at}: `format` {s:?} is not one Auto Loader reads here; it reads json or csv"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Json => "json",
            FileFormat::Csv => "csv",
        }
    }
}

/// The default rescued data column (Databricks adds it to an inferred schema).
pub const RESCUED_DATA: &str = "_rescued_data";

/// The options read, as Databricks spells them (names regardless of case). `cloudFiles.format`
/// and `cloudFiles.schemaLocation` are accepted for programs copied from a notebook: the format
/// must agree with the source's `format`, and the schema location is always beside the checkpoint.
pub const AUTO_LOADER_OPTIONS: [&str; 11] = [
    "cloudFiles.schemaEvolutionMode",
    "cloudFiles.inferColumnTypes",
    "cloudFiles.maxFilesPerTrigger",
    "cloudFiles.maxBytesPerTrigger",
    "cloudFiles.schemaInference.sampleSize.numFiles",
    "cloudFiles.schemaLocation",
    "cloudFiles.format",
    "rescuedDataColumn",
    "header",
    "sep",
    "delimiter",
];

#[derive(Debug, Clone, PartialEq)]
pub struct AutoLoaderOptions {
    pub format: FileFormat,
    /// None: the default for the source (addNewColumns when the schema is inferred, none when given).
    pub evolution: Option<EvolutionMode>,
    pub infer_column_types: bool,
    /// Databricks' default is 1000 files a trigger.
    pub max_files_per_trigger: u64,
    pub max_bytes_per_trigger: Option<u64>,
    /// How many of the first files schema inference reads (Databricks' default: 1000).
    pub sample_files: usize,
    pub rescued_data_column: Option<String>,
    pub header: bool,
    pub sep: char,
}

impl AutoLoaderOptions {
    pub fn new(format: FileFormat) -> Self {
        AutoLoaderOptions {
            format,
            evolution: None,
            infer_column_types: false,
            max_files_per_trigger: 1000,
            max_bytes_per_trigger: None,
            sample_files: 1000,
            rescued_data_column: None,
            header: false,
            sep: ',',
        }
    }

    pub fn parse(format: FileFormat, options: &[(String, String)], at: &str) -> Result<AutoLoaderOptions> {
        let mut o = AutoLoaderOptions::new(format);
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in options {
            let Some(known) = AUTO_LOADER_OPTIONS.iter().copied().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(Error::invalid_input(format!(
                    "{at}: unknown option `{name}` (Auto Loader reads {} here)",
                    AUTO_LOADER_OPTIONS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(Error::invalid_input(format!(
                    "{at}: the option `{known}` is given twice (option names are read regardless of case)"
                )));
            }
            seen.push(known);
            let bad = |what: &str| Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}': {what}"));
            let boolean = || match value.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad("must be 'true' or 'false'")),
            };
            let positive = || {
                value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0 && *n <= i32::MAX as u64)
                    .ok_or_else(|| bad("must be a positive integer"))
            };
            match known {
                "cloudFiles.schemaEvolutionMode" => {
                    o.evolution = Some(match value.as_str() {
                        "addNewColumns" => EvolutionMode::AddNewColumns,
                        "rescue" => EvolutionMode::Rescue,
                        "failOnNewColumns" => EvolutionMode::FailOnNewColumns,
                        "none" => EvolutionMode::None,
                        _ => return Err(bad("must be one of addNewColumns, rescue, failOnNewColumns, none")),
                    })
                }
                "cloudFiles.inferColumnTypes" => o.infer_column_types = boolean()?,
                "cloudFiles.maxFilesPerTrigger" => o.max_files_per_trigger = positive()?,
                "cloudFiles.maxBytesPerTrigger" => {
                    o.max_bytes_per_trigger =
                        Some(byte_string(value).ok_or_else(|| bad("a size such as 10g, 512m, 100k or a number of bytes"))?)
                }
                "cloudFiles.schemaInference.sampleSize.numFiles" => o.sample_files = positive()? as usize,
                "cloudFiles.format" if FileFormat::parse(value, at)? != format => {
                    return Err(bad(&format!("the source's `format` is {}", format.as_str())));
                }
                "rescuedDataColumn" => {
                    if !crate::scenario::is_plain_name(value) {
                        return Err(bad("a column name (letters, digits and _)"));
                    }
                    o.rescued_data_column = Some(value.clone());
                }
                "header" => o.header = boolean()?,
                "sep" | "delimiter" => {
                    let mut chars = value.chars();
                    o.sep = match (chars.next(), chars.next()) {
                        (Some(c), None) if c != '"' && c != '\n' && c != '\r' => c,
                        _ => return Err(bad("one character, not a quote or a line break")),
                    };
                }
                _ => {}
            }
        }
        if o.format == FileFormat::Json && (seen.contains(&"header") || seen.contains(&"sep") || seen.contains(&"delimiter")) {
            return Err(Error::invalid_input(format!("{at}: `header`, `sep` and `delimiter` are CSV options; this source reads json")));
        }
        Ok(o)
    }
}

/// A byte size as Spark's `byteStringAsBytes` reads it: a number with an optional unit
/// (b, k/kb, m/mb, g/gb, t/tb; powers of 1024).
pub fn byte_string(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let shift = match unit {
        "" | "b" => 0,
        "k" | "kb" => 10,
        "m" | "mb" => 20,
        "g" | "gb" => 30,
        "t" | "tb" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift).filter(|b| *b > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn parse(format: FileFormat, pairs: &[(&str, &str)]) -> Result<AutoLoaderOptions> {
        AutoLoaderOptions::parse(format, &pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>(), "source landing")
    }

    #[test]
    fn options_are_validated_naming_the_option() {
        let o = parse(FileFormat::Json, &[("cloudfiles.schemaEvolutionMode", "rescue"), ("cloudFiles.maxBytesPerTrigger", "1k")]).unwrap();
        assert_eq!((o.evolution, o.max_bytes_per_trigger, o.max_files_per_trigger), (Some(EvolutionMode::Rescue), Some(1024), 1000));
        let e = parse(FileFormat::Json, &[("cloudFiles.schemaEvolutionMode", "merge")]).unwrap_err();
        assert!(e.message.contains("'cloudFiles.schemaEvolutionMode'") && e.message.contains("addNewColumns"), "{e}");
        let e = parse(FileFormat::Json, &[("cloudFiles.maxFilesPerTrigger", "0")]).unwrap_err();
        assert!(e.message.contains("'cloudFiles.maxFilesPerTrigger', must") || e.message.contains("positive integer"), "{e}");
        assert!(parse(FileFormat::Json, &[("cloudFiles.maxFilePerTrigger", "1")]).unwrap_err().message.contains("unknown option"));
        assert!(parse(FileFormat::Json, &[("header", "true")]).unwrap_err().message.contains("CSV options"));
        assert!(parse(FileFormat::Csv, &[("cloudFiles.format", "json")]).is_err());
        assert!(parse(FileFormat::Csv, &[("sep", ";;")]).is_err());
        assert_eq!(parse(FileFormat::Csv, &[("header", "TRUE"), ("sep", ";")]).unwrap().sep, ';');
        assert!(parse(FileFormat::Json, &[("cloudFiles.inferColumnTypes", "yes")]).is_err());
        assert_eq!(byte_string("10g"), Some(10 << 30));
        assert_eq!((byte_string("0"), byte_string("5 x"), byte_string("99999999999t")), (None, None, None));
    }
}
