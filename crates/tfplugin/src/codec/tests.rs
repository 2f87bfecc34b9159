//! The codec's tests: both encodings, and what they share.

use rmpv::Value as Mp;

use super::*;

fn run_type() -> Type {
    let block = Type::Object(
        [
            ("manual_confirm".to_string(), Type::Bool),
            ("retry_attempts".to_string(), Type::Number),
            ("message".to_string(), Type::String),
        ]
        .into(),
    );
    Type::Object(
        [
            ("id".to_string(), Type::String),
            ("apply".to_string(), Type::list(block.clone())),
            ("tags".to_string(), Type::map(Type::String)),
            ("names".to_string(), Type::set(Type::String)),
            (
                "pair".to_string(),
                Type::Tuple(vec![Type::String, Type::Number]),
            ),
            ("anything".to_string(), Type::Dynamic),
        ]
        .into(),
    )
}

fn sample() -> Value {
    Value::object([
        ("id", Value::Unknown),
        (
            "apply",
            Value::List(vec![Value::object([
                ("manual_confirm", Value::Bool(true)),
                ("retry_attempts", Value::int(3)),
                ("message", Value::Null),
            ])]),
        ),
        (
            "tags",
            Value::Map([("a".to_string(), Value::string("b"))].into()),
        ),
        (
            "names",
            Value::Set(vec![Value::string("x"), Value::Unknown]),
        ),
        (
            "pair",
            Value::Tuple(vec![Value::string("p"), Value::Number(Number::Float(1.5))]),
        ),
        ("anything", Value::List(vec![Value::int(1), Value::int(2)])),
    ])
}

#[test]
fn msgpack_round_trips_unknown_null_and_nested_values() {
    let ty = run_type();
    let bytes = encode_msgpack(&sample(), &ty).unwrap();
    let back = decode_msgpack(&bytes, &ty).unwrap();
    assert_eq!(back, sample());
}

#[test]
fn unknown_is_written_as_extension_zero() {
    assert_eq!(
        encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
        vec![0xd4, 0x00, 0x00]
    );
    // A refined unknown (extension 12 with a payload) also reads as unknown.
    let refined = [0xc7, 0x02, 0x0c, 0x81, 0x01];
    assert_eq!(
        decode_msgpack(&refined, &Type::String).unwrap(),
        Value::Unknown
    );
}

#[test]
fn objects_carry_every_attribute_even_when_absent() {
    let ty = Type::Object(
        [
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::Bool),
        ]
        .into(),
    );
    let bytes = encode_msgpack(&Value::object([("a", Value::string("x"))]), &ty).unwrap();
    let raw = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
    assert_eq!(raw.as_map().unwrap().len(), 2);
}

#[test]
fn numbers_decode_from_every_encoding() {
    let cases: Vec<(Mp, Value)> = vec![
        (Mp::from(7u8), Value::int(7)),
        (Mp::from(-7i64), Value::int(-7)),
        (Mp::from(u64::MAX), Value::Number(Number::UInt(u64::MAX))),
        (Mp::F32(2.5), Value::Number(Number::Float(2.5))),
        (Mp::F64(3.0), Value::int(3)),
        (
            Mp::from("12345678901234567890"),
            Value::Number(Number::UInt(12_345_678_901_234_567_890)),
        ),
        (Mp::from("0.25"), Value::Number(Number::Float(0.25))),
    ];
    for (raw, expected) in cases {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &raw).unwrap();
        assert_eq!(
            decode_msgpack(&bytes, &Type::Number).unwrap(),
            expected,
            "{raw:?}"
        );
    }
}

#[test]
fn dynamic_values_carry_their_type() {
    let v = Value::string("hi");
    let bytes = encode_msgpack(&v, &Type::Dynamic).unwrap();
    let raw = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
    assert_eq!(
        raw.as_array().unwrap()[0],
        Mp::Binary(b"\"string\"".to_vec())
    );
    assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
    assert_eq!(
        encode_msgpack(&Value::Null, &Type::Dynamic).unwrap(),
        vec![0xc0]
    );
}

#[test]
fn json_ignores_attributes_the_schema_no_longer_has() {
    let ty = Type::Object(
        [
            ("id".to_string(), Type::String),
            ("n".to_string(), Type::Number),
        ]
        .into(),
    );
    let v = decode_json(br#"{"id":"run-1","gone":true,"n":"4"}"#, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([("id", Value::string("run-1")), ("n", Value::int(4))])
    );
    let missing = decode_json(br#"{}"#, &ty).unwrap();
    assert_eq!(missing.attr("id"), &Value::Null);
}

#[test]
fn json_round_trips_known_values() {
    let ty = run_type();
    let mut v = sample();
    v.unknowns_to_null();
    let bytes = encode_json(&v, &ty).unwrap();
    assert_eq!(decode_json(&bytes, &ty).unwrap(), v);
}

#[test]
fn dynamic_value_prefers_msgpack_and_treats_empty_as_null() {
    assert_eq!(
        decode_dynamic(&[], &[], &Type::String).unwrap(),
        Value::Null
    );
    assert_eq!(
        decode_dynamic(&[], br#""j""#, &Type::String).unwrap(),
        Value::string("j")
    );
    assert_eq!(
        decode_dynamic(&[0xa1, b'm'], br#""j""#, &Type::String).unwrap(),
        Value::string("m")
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let ty = run_type();
    let bad_inputs: Vec<Vec<u8>> = vec![
        vec![0xdc],                         // truncated array16 header
        vec![0x92, 0xa1],                   // array missing elements
        vec![0xa3, 0xff, 0xfe, 0xfd],       // invalid UTF-8 string
        vec![0x81, 0xa2, b'i', b'd', 0x01], // number where a string belongs
        vec![0xc0, 0xc0],                   // trailing bytes
        vec![0x91; 5000],                   // deep nesting
    ];
    for bytes in bad_inputs {
        assert!(decode_msgpack(&bytes, &ty).is_err(), "{bytes:02x?}");
    }
    assert!(decode_json(b"{\"id\": ", &ty).is_err());
    assert!(decode_json(b"[1,2]", &ty).is_err());
    assert!(decode_msgpack(&[0x92, 0xc4, 0x01, b'x', 0xc0], &Type::Dynamic).is_err());
}

#[test]
fn nan_is_refused_and_infinity_is_not_written_to_json_as_null() {
    for raw in [Mp::F64(f64::NAN), Mp::F32(f32::NAN)] {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &raw).unwrap();
        assert!(decode_msgpack(&bytes, &Type::Number).is_err(), "{raw:?}");
    }
    let inf = Value::Number(Number::Float(f64::INFINITY));
    let bytes = encode_msgpack(&inf, &Type::Number).unwrap();
    assert_eq!(decode_msgpack(&bytes, &Type::Number).unwrap(), inf);
    assert!(encode_json(&inf, &Type::Number).is_err());
}

#[test]
fn json_numbers_round_trip_exactly() {
    // Found by the codec_json fuzz target: without serde_json's float_roundtrip, an integer below
    // i64::MIN read back one ULP off after writing it out.
    let v = decode_json(b"-9223372583604775808", &Type::Number).unwrap();
    let back = decode_json(&encode_json(&v, &Type::Number).unwrap(), &Type::Number).unwrap();
    assert_eq!(back, v);
    assert_eq!(
        v,
        Value::Number(Number::Float(-9_223_372_583_604_775_808.0))
    );
}

#[test]
fn encoding_a_value_of_the_wrong_type_is_an_error() {
    assert!(encode_msgpack(&Value::Bool(true), &Type::String).is_err());
    assert!(encode_json(&Value::Unknown, &Type::String).is_err());
}
