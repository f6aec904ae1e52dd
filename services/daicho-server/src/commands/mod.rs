//! The `daicho` subcommands other than `serve`, each a function of its
//! configuration struct.

pub mod export;
pub mod init;
pub mod key;
pub mod sign;
pub mod token;
