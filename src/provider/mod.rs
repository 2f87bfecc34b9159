//! The provider: configuration and resources.
