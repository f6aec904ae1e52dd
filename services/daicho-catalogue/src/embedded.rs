//! The default catalogue's files, embedded by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/embedded_catalogue.rs"));
