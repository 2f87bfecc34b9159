//! The provider's emulator helpers (tests/common at the top of the repository), shared rather than copied.
//! Here, where cargo builds the `tfe-emulator` binary for the tests, `TestEmulator` starts that binary, so
//! these tests exercise the program itself.
#![allow(dead_code)]

#[path = "../../../../tests/common/emulator.rs"]
pub(crate) mod emulator;
#[path = "../../../../tests/common/netns.rs"]
pub(crate) mod netns;
