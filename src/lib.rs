//! policyc
pub mod region;
pub mod source;
pub mod syntax;
pub mod time;
pub mod types;
pub mod value;
