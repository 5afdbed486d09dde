//! JSON text written by hand, for the two fixed shapes the webhook writes on every review: its
//! answer and its decision line. Their fields are known, so no serializer is needed; strings
//! are escaped where JSON requires it (`"`, `\` and control characters), and the test for
//! whether a string needs any escaping at all reads it eight bytes at a time, since names,
//! uids and messages almost never do.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` below `limit` (at most 0x80) is set, and no other when
/// none is (the usual bit trick; exact for "is there any").
fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// Whether `byte` must be escaped in a JSON string.
fn escapes(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The position of the first byte of `bytes` that must be escaped in a JSON string.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    // The flags of the bytes of one word that must be escaped. Little-endian: the lowest flag
    // is the first such byte (the trick's false flags only ever sit above a true one).
    fn flags(word: &[u8; 8]) -> u64 {
        let word = u64::from_le_bytes(*word);
        bytes_below(word, 0x20)
            | bytes_below(word ^ (ONES * u64::from(b'"')), 1)
            | bytes_below(word ^ (ONES * u64::from(b'\\')), 1)
    }
    let (words, rest) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        let found = flags(word);
        if found != 0 {
            return Some(i * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    if rest.is_empty() {
        return None;
    }
    // The last eight bytes as one more word, overlapping bytes already found plain, rather
    // than the last few one by one (most strings end in such a tail).
    match bytes.last_chunk::<8>() {
        Some(last) => {
            let found = flags(last);
            (found != 0).then(|| bytes.len() - 8 + found.trailing_zeros() as usize / 8)
        }
        None => rest.iter().position(|&b| escapes(b)),
    }
}

/// Whether any byte of `bytes` must be escaped in a JSON string.
pub fn needs_escaping(bytes: &[u8]) -> bool {
    first_to_escape(bytes).is_some()
}

/// A JSON string's contents: `"`, `\` and control characters escaped, the runs between them
/// copied whole.
pub fn push_escaped(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = text.as_bytes();
    while let Some(at) = first_to_escape(rest) {
        let (plain, special) = rest.split_at(at);
        out.extend_from_slice(plain);
        let Some((&byte, after)) = special.split_first() else {
            break;
        };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                for nibble in [byte >> 4, byte & 0xf] {
                    out.push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
                }
            }
        }
        rest = after;
    }
    out.extend_from_slice(rest);
}

/// A JSON string, quoted.
pub fn push_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    push_escaped(out, text);
    out.push(b'"');
}

/// A JSON string, quoted, of text that never needs escaping: our own names and base64.
pub fn push_plain_str(out: &mut Vec<u8>, text: &str) {
    debug_assert!(!needs_escaping(text.as_bytes()), "{text:?} needs escaping");
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// A number.
pub fn push_number(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// A JSON value, compact, as serde_json writes it (objects in their map's order; numbers as
/// `Number` displays them, which is how serde_json writes them).
pub fn push_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    use serde_json::Value;
    use std::io::Write as _;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Writing into a Vec cannot fail.
        Value::Number(number) => {
            let _ = write!(out, "{number}");
        }
        Value::String(text) => push_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_str(out, key);
                out.push(b':');
                push_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// A JSON patch, as serde_json writes `json_patch`'s operations (`op` first, then the fields
/// in their declared order).
pub fn push_patch(out: &mut Vec<u8>, patch: &[json_patch::PatchOperation]) {
    use json_patch::PatchOperation;
    out.push(b'[');
    for (i, operation) in patch.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (op, from, path, value) = match operation {
            PatchOperation::Add(o) => ("add", None, &o.path, Some(&o.value)),
            PatchOperation::Remove(o) => ("remove", None, &o.path, None),
            PatchOperation::Replace(o) => ("replace", None, &o.path, Some(&o.value)),
            PatchOperation::Move(o) => ("move", Some(&o.from), &o.path, None),
            PatchOperation::Copy(o) => ("copy", Some(&o.from), &o.path, None),
            PatchOperation::Test(o) => ("test", None, &o.path, Some(&o.value)),
        };
        out.extend_from_slice(b"{\"op\":");
        push_plain_str(out, op);
        if let Some(from) = from {
            out.extend_from_slice(b",\"from\":");
            push_str(out, from.as_str());
        }
        out.extend_from_slice(b",\"path\":");
        push_str(out, path.as_str());
        if let Some(value) = value {
            out.extend_from_slice(b",\"value\":");
            push_value(out, value);
        }
        out.push(b'}');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_text_is_copied_as_is() {
        assert_eq!(
            quoted("k8ssandra/c4-dc1-backup-1 ünïcode"),
            "\"k8ssandra/c4-dc1-backup-1 ünïcode\""
        );
    }

    #[test]
    fn every_byte_that_needs_escaping_is_found_at_every_position() {
        // Each special byte, at each offset of a word and in the tail, alone among plain bytes.
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for at in 0..19 {
                let mut bytes = vec![b'a'; 19];
                bytes[at] = special;
                assert!(needs_escaping(&bytes), "byte {special:#04x} at {at}");
            }
        }
    }

    #[test]
    fn the_first_byte_to_escape_is_found_even_with_others_after_it() {
        // A quote then a control character in one word: the bit trick may flag bytes above
        // the first match, never below it.
        assert_eq!(first_to_escape(b"abc\"\x01\\gh"), Some(3));
        assert_eq!(first_to_escape(b"abcdefgh\x00"), Some(8));
        assert_eq!(first_to_escape(b"abcdefgh"), None);
    }

    #[test]
    fn the_position_is_exact_in_strings_of_every_length() {
        // Strings shorter than a word, and the overlapping last word of longer ones.
        for len in 1..=20 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'"';
                if let Some(after) = bytes.get_mut(at + 1) {
                    *after = 0x01;
                }
                assert_eq!(
                    first_to_escape(&bytes),
                    Some(at),
                    "length {len}, quote at {at}"
                );
            }
            assert_eq!(first_to_escape(&vec![b'a'; len]), None, "length {len}");
        }
    }

    #[test]
    fn bytes_next_to_the_special_ones_need_no_escaping() {
        // The neighbours of the tested values, and every non-ASCII byte.
        let plain: Vec<u8> = [0x20u8, b'!', b'#', b'[', b']', 0x7f]
            .into_iter()
            .chain(0x80..=0xff)
            .collect();
        assert!(!needs_escaping(&plain));
    }

    #[test]
    fn values_are_written_as_serde_writes_them() {
        let value = serde_json::json!({
            "null": null, "yes": true, "no": false, "n": -12, "big": u64::MAX, "f": 0.1,
            "e": 1e300, "s": "a\"b\\c\nd", "list": [1, "two", [3], {}], "": {"nested": []}
        });
        let mut out = Vec::new();
        push_value(&mut out, &value);
        assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
    }

    #[test]
    fn every_kind_of_patch_operation_is_written_as_serde_writes_it() {
        let patch: Vec<json_patch::PatchOperation> = serde_json::from_value(serde_json::json!([
            {"op": "add", "path": "/metadata/labels/a~1b", "value": {"k": "v\"", "n": 1}},
            {"op": "remove", "path": "/spec/x"},
            {"op": "replace", "path": "/spec/y", "value": [true, null]},
            {"op": "move", "from": "/a", "path": "/b"},
            {"op": "copy", "from": "/c", "path": "/d~0e"},
            {"op": "test", "path": "/f", "value": "g"}
        ]))
        .unwrap();
        let mut out = Vec::new();
        push_patch(&mut out, &patch);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&patch).unwrap()
        );
        let mut empty = Vec::new();
        push_patch(&mut empty, &[]);
        assert_eq!(empty, b"[]");
    }

    #[test]
    fn escaped_strings_read_back_as_the_original() {
        let hostile = "a\"b\\c\nd\re\tf\u{1}g\u{1f}h ünïcode \u{7f} end of a long enough line";
        let text = quoted(hostile);
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), hostile);
        assert!(!text.contains('\n'));
    }
}
