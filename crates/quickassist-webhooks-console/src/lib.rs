#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod actions;
mod chart;
mod console;
mod data;
mod filter;
mod headers;
mod mask;
mod pages;

pub use access::{Access, Operator};
pub use console::Console;
