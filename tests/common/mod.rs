//! Helpers shared by the integration tests. Not every test uses every helper.
#![allow(dead_code)]

pub(crate) mod api;
pub(crate) mod emulator;
pub(crate) mod https_mirror;
pub(crate) mod mirror;
pub(crate) mod netns;
pub(crate) mod runs;
pub(crate) mod session;
pub(crate) mod terraform;
