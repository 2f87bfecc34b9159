//! Starting tfe-emulator for a test and talking to its admin API.
