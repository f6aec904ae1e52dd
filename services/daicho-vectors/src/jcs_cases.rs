//! The JCS cases: RFC 8785's own examples with the outputs the RFC prints,
//! and the hard inputs daicho must refuse or order correctly.

/// What a case must produce.
pub enum Expect {
    /// This canonical text.
    Canonical(&'static str),
    /// A refusal of this kind (`duplicate_key`, `inexact_integer`, `syntax`).
    Error(&'static str),
}

/// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
pub const RFC8785_NUMBERS: [(u64, &str); 24] = [
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"),
    (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"),
    (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
    (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"),
    (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"),
    (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
];

/// Named text cases.
pub const TEXT_CASES: &[(&str, &str, Expect)] = &[
    (
        "rfc8785-3.2.2-example",
        r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
        Expect::Canonical(
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}",
        ),
    ),
    (
        "rfc8785-3.2.3-sorting",
        r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        Expect::Canonical(
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
        ),
    ),
    (
        "utf16-order-non-bmp-before-ffff",
        r#"{"\uffff":2,"\ud83d\ude00":1}"#,
        Expect::Canonical("{\"\u{1f600}\":1,\"\u{ffff}\":2}"),
    ),
    (
        "utf16-order-surrogates-before-e000",
        r#"{"\ue000":1,"\ud800\udc00":2}"#,
        Expect::Canonical("{\"\u{10000}\":2,\"\u{e000}\":1}"),
    ),
    ("number-1e21", "1e21", Expect::Canonical("1e+21")),
    ("number-1e20", "1e20", Expect::Canonical("100000000000000000000")),
    ("number-1e-7", "1e-7", Expect::Canonical("1e-7")),
    ("number-1e-6", "0.000001", Expect::Canonical("0.000001")),
    ("number-minus-zero", "-0", Expect::Canonical("0")),
    ("number-minus-zero-float", "-0.0", Expect::Canonical("0")),
    ("number-exponent-upper", "1E+2", Expect::Canonical("100")),
    ("number-fraction-zeros", "4.50", Expect::Canonical("4.5")),
    ("number-123.456e3", "123.456e3", Expect::Canonical("123456")),
    ("number-1.5e300", "1.5e300", Expect::Canonical("1.5e+300")),
    ("integer-2^53", "9007199254740992", Expect::Canonical("9007199254740992")),
    ("integer-2^53-plus-2", "9007199254740994", Expect::Canonical("9007199254740994")),
    ("integer-2^60-as-ecmascript-prints-it", "1152921504606846976", Expect::Canonical("1152921504606847000")),
    ("integer-2^53-plus-1", "9007199254740993", Expect::Error("inexact_integer")),
    ("integer-minus-2^53-minus-1", "-9007199254740993", Expect::Error("inexact_integer")),
    ("integer-18-digits", "123456789012345678", Expect::Error("inexact_integer")),
    ("integer-u64-max", "18446744073709551615", Expect::Error("inexact_integer")),
    ("integer-2^64-read-as-double", "18446744073709551616", Expect::Canonical("18446744073709552000")),
    ("string-controls", r#""\u0000\u001f\u007f\b\f\t""#, Expect::Canonical("\"\\u0000\\u001f\u{7f}\\b\\f\\t\"")),
    ("string-solidus", r#""\/""#, Expect::Canonical("\"/\"")),
    ("string-japanese", r#""\u4eac\u90fd\u5e9c\u4e80\u5ca1\u5e02""#, Expect::Canonical("\"京都府亀岡市\"")),
    ("nested-sorting", r#"{"b":[],"a":{"d":1,"c":[{"f":1,"e":2}]}}"#, Expect::Canonical(r#"{"a":{"c":[{"e":2,"f":1}],"d":1},"b":[]}"#)),
    ("whitespace", " [ 1 ,\n\t2 ] ", Expect::Canonical("[1,2]")),
    ("empty-key", r#"{"":1,"a":2}"#, Expect::Canonical(r#"{"":1,"a":2}"#)),
    ("literals", "[true,false,null]", Expect::Canonical("[true,false,null]")),
    ("duplicate-key", r#"{"a":1,"a":1}"#, Expect::Error("duplicate_key")),
    ("duplicate-key-nested", r#"{"x":[{"k":1,"k":2}]}"#, Expect::Error("duplicate_key")),
    ("duplicate-key-after-escape", r#"{"a":1,"\u0061":2}"#, Expect::Error("duplicate_key")),
    ("nan", "NaN", Expect::Error("syntax")),
    ("infinity", "[Infinity]", Expect::Error("syntax")),
    ("overflow", "1e400", Expect::Error("syntax")),
    ("lone-surrogate", r#""\ud800""#, Expect::Error("syntax")),
    ("trailing-data", "{} {}", Expect::Error("syntax")),
    ("leading-zero", "012", Expect::Error("syntax")),
];
