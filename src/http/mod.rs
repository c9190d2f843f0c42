//! The HTTP layer: bytes in, decisions and response bytes out, without sockets or clocks.
//!
//! It owns parsing a request head ([`request`]), writing response heads ([`response`]), the
//! `Date` header's text ([`date`]), and one connection's state machine ([`session`]), which
//! asks a [`Service`] for each answer. It may use the `wire` layer and the log; the server
//! layer above moves bytes between sockets and sessions, and the exporter layer implements
//! [`Service`]. Nothing here does I/O, so tests and fuzz targets drive it directly.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "basic-auth")]
mod basic_auth;
mod date;
mod request;
mod response;
mod session;

#[cfg(feature = "basic-auth")]
pub use basic_auth::{basic_credentials, Credentials, MAX_CREDENTIALS_BYTES};
pub use date::HttpDate;
pub use request::{parse_request, path_is, Method, Parse, Request, RequestLimits, MAX_HEADERS};
pub use response::{
    write_response_head, write_simple_response, CommonHeaders, ResponseHead, Status,
};
pub use session::{Action, Context, Response, Service, Session, Wait};
