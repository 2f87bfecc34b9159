//! tfe-emulator: a local stand-in for the TFE API v2.
