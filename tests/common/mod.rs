//! Helpers shared by the integration tests. Not every test uses every helper.
#![allow(dead_code)]

pub mod emulator;
pub mod netns;
pub mod runs;
pub mod session;
pub mod terraform;
