//! The stakestack engine: composes the protocol layers into one deterministic world, routes
//! typed actions atomically, runs scenarios and collects metrics. Sans-IO: callers pass text and
//! receive values; files, terminals and networks belong to the binary.

pub mod action;
pub mod amount;
pub mod bench;
pub mod calc;
mod calc_fns;
mod draw;
pub mod error;
pub mod event;
pub mod lrt;
pub mod lst;
pub mod markets;
pub mod products;
pub mod report;
pub mod restaking;
pub mod runner;
pub mod scenario;
pub mod setup;
pub mod time;
pub mod world;
