use super::*;

#[test]
fn deleting_a_backup_warns_that_the_data_stays() {
    let decision = delete(&MedusaBackup::test("nightly"), &world());
    assert!(decision.allowed());
    assert!(warns(&decision, RuleId::B1).contains("kubectl medusa purge --dc dc1"));
}
