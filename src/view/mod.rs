pub mod problems;
pub mod table;
