//! The bottom layer: bytes that spell numbers, escapes and dates, with no `core::fmt` float
//! machinery and no I/O.
//!
//! Every other layer may use it; it uses nothing of the crate. One writer per job: decimal
//! integers ([`decimal`]), floats as Go's `ParseFloat` reads them ([`float`], over the
//! shortest round-tripping digits of [`dtoa`]), exposition escapes ([`escape`]), civil dates
//! ([`date`]) and HTTP white space ([`ascii`]).

#[cfg(feature = "server")]
pub(crate) mod ascii;
#[cfg(feature = "basic-auth")]
pub(crate) mod base64;
#[cfg(test)]
mod bignum;
pub(crate) mod date;
pub(crate) mod decimal;
pub(crate) mod dtoa;
pub(crate) mod escape;
pub mod float;
mod pow10;
