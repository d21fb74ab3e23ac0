//! Databricks' Auto Loader (`cloudFiles`): JSON and CSV files landing in a folder, a schema
//! inferred from the first files and kept at a schema location beside the checkpoint, schema
//! evolution by `cloudFiles.schemaEvolutionMode`, and the rescued data column. No Databricks
//! runtime runs here: every rule follows Databricks' documentation, cited where it is used.

pub mod format;
pub mod options;
pub mod source;

pub use options::{AutoLoaderOptions, EvolutionMode, FileFormat};
pub use source::{AutoLoaderSource, LandedFile};
