//! Deeply nested programs check without overflowing the stack (like the
//! driver, on a thread with a big stack) and in reasonable time.

use super::check;

const DEPTH: usize = 20_000;

fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .map_err(|e| e.to_string());
    match handle {
        Ok(h) => assert!(h.join().is_ok(), "the test thread panicked"),
        Err(e) => panic!("cannot spawn a test thread: {e}"),
    }
}

fn time(name: &str, src: String) -> String {
    let t = std::time::Instant::now();
    let out = check(&src);
    eprintln!("{name}: {:?}", t.elapsed());
    out
}

#[test]
fn nested_parens() {
    on_big_stack(|| {
        let src = format!("def f = {}1{}\n", "(".repeat(DEPTH), ")".repeat(DEPTH));
        assert_eq!(time("parens", src), "f : Int\n");
    });
}

#[test]
fn long_operator_chain() {
    on_big_stack(|| {
        let src = format!("def f x = x{}\n", " + x".repeat(DEPTH));
        assert_eq!(time("chain", src), "f : a -> a\n");
    });
}

#[test]
fn nested_lambdas() {
    on_big_stack(|| {
        let src = format!("def f = {}1\n", "\\x -> ".repeat(150));
        let out = time("150 lambdas", src);
        assert!(out.starts_with("f : a -> b -> "), "{}", &out[..40]);
        let src = format!("def f = {}1\n", "\\x -> ".repeat(DEPTH));
        let out = time("lambdas", src);
        assert!(out.contains("[E0007]"), "{}", &out[..40]);
    });
}

#[test]
fn nested_tuples_and_lets() {
    on_big_stack(|| {
        let src = format!("def f = {}1{}\n", "(1, ".repeat(DEPTH), ")".repeat(DEPTH));
        let out = time("tuples", src);
        assert!(out.contains("[E0007]"), "{}", &out[..40]);
        let src = format!("def g = {}1\n", "let x = 1 in ".repeat(DEPTH));
        assert_eq!(time("lets", src), "g : Int\n");
    });
}

#[test]
fn exponential_types_are_cut_off() {
    on_big_stack(|| {
        let src = format!(
            "def d x = (x, x)\ndef f = {}1{}\n",
            "d (".repeat(40),
            ")".repeat(40)
        );
        let out = time("exponential", src);
        assert!(out.contains("[E0007]"), "{out}");
    });
}
