pub mod aci;
pub mod admin;
pub mod backup;
pub mod communes;
pub mod demo;
pub mod ids;
pub mod serve;
pub mod territory;
