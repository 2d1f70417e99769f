//! Programs that check: their `dp check` output.

use expect_test::expect;

use super::{check, type_of, SENTIMENT};

#[test]
fn sentiment() {
    expect![[r#"
        step : Hidden -> Word -> Hidden
        model : List Word -> Scores Label
        loss : (List Word, Label) -> Float
        accuracy : (List Word, Label) -> Float
    "#]]
    .assert_eq(&check(SENTIMENT));
}

#[test]
fn eval_in_sentiment() {
    expect!["Label"].assert_eq(&type_of(
        SENTIMENT,
        r#"argmax (model ["a", "fine", "film"])"#,
    ));
}
