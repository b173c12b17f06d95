//! One error type for the whole crate: every message says what was wrong and, where it
//! helps, how to fix it.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Two shapes that had to agree did not; the message names both.
    Shape(String),
    /// An argument was out of its allowed range or otherwise invalid.
    Invalid(String),
    /// A file could not be read, written or parsed.
    Io(String),
    /// A model file does not match the architecture it claims.
    Model(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m) => write!(f, "shape error: {m}"),
            Error::Invalid(m) => write!(f, "invalid input: {m}"),
            Error::Io(m) => write!(f, "file error: {m}"),
            Error::Model(m) => write!(f, "model error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand constructors used throughout the crate.
pub fn shape_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Shape(msg.into()))
}

pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}
