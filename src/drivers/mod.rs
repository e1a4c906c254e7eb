//! Per-router-kind knowledge: how to start the daemons, tell they are ready, and which
//! CLI commands read their state. Pure: the engine executes what these functions return.

pub mod query;
