//! The department store's errors: one line each, saying what failed.

use snafu::Snafu;

#[derive(Debug, Snafu)]
#[snafu(visibility(pub(crate)))]
pub enum Error {
    /// The connection string cannot be used.
    #[snafu(display("department store: {message}"))]
    Config { message: String },
    /// The server could not be reached, or the connection was lost.
    #[snafu(display("department store unreachable: {message}"))]
    Unreachable { message: String },
    /// The server did not answer in time.
    #[snafu(display("department store: no answer within {seconds} s"))]
    Timeout { seconds: u64 },
    /// The server answered with an error.
    #[snafu(display("department store: {message}"))]
    Server { message: String },
    /// The store's schema is newer than this version of Overread knows.
    #[snafu(display(
        "department store: its schema is version {found}, newer than this Overread's {known}; update Overread"
    ))]
    NewerSchema { found: i32, known: i32 },
}

impl Error {
    /// Worth trying again later: the server was away or slow.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unreachable { .. } | Error::Timeout { .. })
    }
}

/// A client error as one of ours: a closed connection or an I/O failure is
/// unreachable, anything the server said is a server error (first line).
pub(crate) fn from_pg(e: &tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        return Error::Server {
            message: db.message().lines().next().unwrap_or_default().to_string(),
        };
    }
    let message = std::iter::successors(
        Some(e as &dyn std::error::Error),
        |e: &&dyn std::error::Error| e.source(),
    )
    .map(ToString::to_string)
    .last()
    .unwrap_or_default();
    let message = if message.is_empty() {
        e.to_string()
    } else {
        message
    };
    Error::Unreachable {
        message: message.lines().next().unwrap_or_default().to_string(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
