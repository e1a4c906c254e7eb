//! Router configs rendered from the plan with minijinja templates embedded in the binary.
