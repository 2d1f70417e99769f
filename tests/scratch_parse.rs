use dp::source::SourceMap;
#[test]
fn scratch() {
    let mut sm = SourceMap::new();
    let src = std::fs::read_to_string("/tmp/s.dp").unwrap();
    let id = sm.add("s.dp", src.clone());
    let (m, d) = dp::syntax::parse_module(id, &src);
    println!("{} decls", m.decls.len());
    print!("{}", dp::diagnostic::render(&d, &sm, false));
}
