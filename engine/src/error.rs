//! The engine's one error type. Every error has a stable machine-readable `kind` (the scenario
//! format's contract), a message a user can act on, and, for SQL, the line and column it is about.

use std::fmt;

/// Stable classes of error, as named in the scenario format (`FORMAT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Parse,
    UnknownTable,
    UnknownColumn,
    UnknownFunction,
    AmbiguousColumn,
    TypeMismatch,
    MissingWatermark,
    UnsupportedOutputMode,
    UnsupportedOperation,
    /// A failure inside a micro-batch (ANSI cast errors, division by zero, ...): the query stops.
    Runtime,
    /// A malformed scenario file or API call: names the position or step.
    InvalidInput,
    /// A checkpoint that cannot be used: damaged, from another query or another version.
    Checkpoint,
    /// A query whose state grew past the configured limit.
    StateLimit,
    /// A pipeline whose graph Spark refuses (a cycle, a name defined twice, a flow into a
    /// materialized view, ...): FORMAT.md's `pipeline` kind.
    Pipeline,
    /// A bug in the engine, never the user's fault.
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Parse => "parse",
            ErrorKind::UnknownTable => "unknown_table",
            ErrorKind::UnknownColumn => "unknown_column",
            ErrorKind::UnknownFunction => "unknown_function",
            ErrorKind::AmbiguousColumn => "ambiguous_column",
            ErrorKind::TypeMismatch => "type_mismatch",
            ErrorKind::MissingWatermark => "missing_watermark",
            ErrorKind::UnsupportedOutputMode => "unsupported_output_mode",
            ErrorKind::UnsupportedOperation => "unsupported_operation",
            ErrorKind::Runtime => "runtime",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Checkpoint => "checkpoint",
            ErrorKind::StateLimit => "state_limit",
            ErrorKind::Pipeline => "pipeline",
            ErrorKind::Internal => "internal",
        }
    }
}

/// When the error was raised, mirroring where Spark raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `spark.sql(q)`: parsing, name resolution, types.
    Analysis,
    /// `writeStream.start()`: the streaming rules (output modes, watermarks, unsupported operators).
    Start,
    /// Inside a micro-batch.
    Batch,
}

impl Phase {
    pub fn code(self) -> &'static str {
        match self {
            Phase::Analysis => "analysis",
            Phase::Start => "start",
            Phase::Batch => "batch",
        }
    }
}

/// A position in the SQL text, 1-based like an editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Spark's error condition (e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`) where Spark has one.
    pub spark_condition: Option<&'static str>,
    pub position: Option<Position>,
    pub phase: Phase,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let phase = match kind {
            ErrorKind::MissingWatermark | ErrorKind::UnsupportedOutputMode | ErrorKind::UnsupportedOperation => Phase::Start,
            ErrorKind::Runtime | ErrorKind::StateLimit => Phase::Batch,
            _ => Phase::Analysis,
        };
        Error { kind, message: message.into(), spark_condition: None, position: None, phase }
    }

    pub fn with_condition(mut self, condition: &'static str) -> Self {
        self.spark_condition = Some(condition);
        self
    }

    pub fn at(mut self, position: Option<Position>) -> Self {
        if self.position.is_none() {
            self.position = position;
        }
        self
    }

    pub fn in_phase(mut self, phase: Phase) -> Self {
        self.phase = phase;
        self
    }

    pub fn parse(message: impl Into<String>, position: Option<Position>) -> Self {
        Error::new(ErrorKind::Parse, message).with_condition("PARSE_SYNTAX_ERROR").at(position)
    }

    pub fn type_mismatch(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::TypeMismatch, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::UnsupportedOperation, message)
    }

    pub fn runtime(condition: &'static str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Runtime, message).with_condition(condition)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, format!("internal error (a bug in Unbounded): {}", message.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(p) = self.position {
            write!(f, " (line {}, column {})", p.line, p.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        match e {
            arrow_schema::ArrowError::ArithmeticOverflow(m) => Error::runtime(
                "ARITHMETIC_OVERFLOW",
                format!("[ARITHMETIC_OVERFLOW] {m}. Use 'try_add', 'try_multiply' or a wider type (BIGINT, DOUBLE) to tolerate overflow. SQLSTATE: 22003"),
            ),
            arrow_schema::ArrowError::DivideByZero => Error::runtime(
                "DIVIDE_BY_ZERO",
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. SQLSTATE: 22012",
            ),
            other => Error::internal(other.to_string()),
        }
    }
}
