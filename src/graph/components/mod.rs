//! The component kinds of a graph model, one file (or folder) each. Each owns its
//! state, its events, its step and its metrics, and never reaches into another's.

pub mod cache;
pub mod counter;
pub mod database;
pub mod service;
pub mod sessions;
pub mod topic;
