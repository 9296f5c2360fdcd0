pub mod communes;
pub mod ids;
pub mod serve;
pub mod territory;
