use super::*;

fn with_prefix(prefix: &str) -> Decision {
    create(
        &K8ssandraCluster::test("demo").with_storage(Storage::test().with_prefix(prefix)),
        &world(),
    )
}

#[test]
fn leading_and_trailing_slashes_are_denied() {
    assert!(denies(&with_prefix("/demo"), RuleId::K6).contains("\"/demo\" starts or ends with /"));
    denies(&with_prefix("demo/"), RuleId::K6);
}

#[test]
fn empty_and_parent_segments_are_denied() {
    assert!(denies(&with_prefix("a//b"), RuleId::K6).contains("empty path segment"));
    assert!(denies(&with_prefix("a/../b"), RuleId::K6).contains("`..` path segment"));
}

#[test]
fn white_space_and_control_characters_are_denied() {
    denies(&with_prefix("my demo"), RuleId::K6);
    denies(&with_prefix("demo\u{7}"), RuleId::K6);
}

#[test]
fn long_prefixes_are_denied() {
    assert!(denies(&with_prefix(&"a".repeat(257)), RuleId::K6).contains("longer than 256"));
    silent(&with_prefix(&"a".repeat(256)), RuleId::K6);
}

#[test]
fn nested_prefixes_are_accepted() {
    silent(&with_prefix("team-a/demo"), RuleId::K6);
}
