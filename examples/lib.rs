//! Helpers shared by the example receivers: configuration from the environment and shutdown.
