use super::*;

#[test]
fn ready_with_secret_available_has_no_anomaly() {
    let configuration = MedusaConfiguration::test("s3")
        .condition("SecretAvailable", "True", "SecretAvailable")
        .condition("Ready", "True", "Ready");
    let state = configuration_state(&configuration);
    assert_eq!(
        (state.ready, state.secret_available),
        (Some(true), Some(true))
    );
    assert!(state.anomalies.is_empty());
}

#[test]
fn missing_secret_carries_the_get_error() {
    let configuration = MedusaConfiguration::test("s3").condition(
        "SecretAvailable",
        "False",
        "secrets \"medusa-bucket-key\" not found",
    );
    let state = configuration_state(&configuration);
    assert_eq!(state.ready, None);
    assert_eq!(
        state.secret_message.unwrap(),
        "secrets \"medusa-bucket-key\" not found"
    );
}

#[test]
fn ready_true_with_secret_unavailable_is_an_anomaly() {
    let configuration = MedusaConfiguration::test("s3")
        .condition("SecretAvailable", "False", "secrets \"k\" not found")
        .condition("Ready", "True", "Ready");
    assert_eq!(
        codes(&configuration_state(&configuration).anomalies),
        ["ReadyButSecretUnavailable"]
    );
}
