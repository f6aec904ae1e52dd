//! How long validation at the door takes, since it sits on the append hot
//! path: a typical valid payload, and a refused one whose violations are all
//! collected. Loading the whole embedded catalogue is measured for contrast.
//!
//! Run with `cargo bench -p daicho-catalogue --bench validate`.

use std::hint::black_box;

use criterion::{criterion_main, Criterion};
use daicho_catalogue::Catalogue;
use serde_json::Value;

fn example(catalogue: &Catalogue, event_type: &str) -> Value {
    catalogue
        .event_type(event_type)
        .expect("the type exists")
        .versions[0]
        .examples[0]
        .clone()
}

fn validate(c: &mut Criterion) {
    let catalogue = Catalogue::embedded();
    // usb.taken_out is typical: nested staff, device and form references,
    // enums and several shared definitions reached through $ref.
    let valid = example(catalogue, "usb.taken_out");
    catalogue
        .validate("usb.taken_out", 1, "info_manager", &valid)
        .expect("the example is valid");
    c.bench_function("validate usb.taken_out v1 (valid)", |b| {
        b.iter(|| {
            catalogue.validate(
                black_box("usb.taken_out"),
                1,
                black_box("info_manager"),
                black_box(&valid),
            )
        })
    });

    let mut invalid = valid.clone();
    invalid["device"]["kind"] = Value::from("floppy");
    invalid["colour"] = Value::from("red");
    invalid.as_object_mut().expect("an object").remove("reason");
    c.bench_function("validate usb.taken_out v1 (3 violations)", |b| {
        b.iter(|| {
            catalogue.validate(
                black_box("usb.taken_out"),
                1,
                black_box("info_manager"),
                black_box(&invalid),
            )
        })
    });

    c.bench_function("load the embedded catalogue (225 types, compiled)", |b| {
        b.iter(|| Catalogue::from_files(black_box(Catalogue::embedded_files())))
    });
}

/// The group lives in a private module because `criterion_group!` defines a
/// public function without documentation.
mod group {
    use criterion::Criterion;

    criterion::criterion_group! {
        name = benches;
        // Loading is slow per iteration; fewer samples keep the run short on a two-core machine.
        config = Criterion::default().sample_size(20);
        targets = super::validate
    }
}
criterion_main!(group::benches);
