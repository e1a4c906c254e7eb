//! Checks: pure evaluation against router state, the polling runner, and reports.
