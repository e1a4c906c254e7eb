//! Which CLI commands read a router's state, and how their outputs become a `RouterState`.
