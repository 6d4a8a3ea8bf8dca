//! Integration tests: the real server on 127.0.0.1:0, a temp data dir, real HTTP.

// A failed unwrap is a failed test here, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analytics;
mod attacks;
mod auth;
mod cli;
mod dashboards;
mod desktop;
mod documents;
mod helpers;
mod issues;
mod managers;
mod matrix;
mod me;
mod merges;
mod metrics;
mod org;
mod parity;
mod planning;
mod plans;
mod projects;
mod staff;
mod sync;
mod tidy;
mod tokens;
mod transfer;
mod worklogs;
mod workspaces;
