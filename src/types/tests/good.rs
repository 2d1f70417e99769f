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
    expect!["Scores Label"].assert_eq(&type_of(SENTIMENT, r#"model ["a"]"#));
    expect!["Float"].assert_eq(&type_of(SENTIMENT, r#"loss (["a", "b"], "pos")"#));
    expect!["Hidden -> Word -> Hidden"].assert_eq(&type_of(SENTIMENT, "step"));
    expect!["Float"].assert_eq(&type_of(SENTIMENT, "zeros"));
    expect!["List ()"].assert_eq(&type_of(SENTIMENT, "[]"));
    expect!["Int"].assert_eq(&type_of(SENTIMENT, "1 + 2"));
    expect!["() -> ()"].assert_eq(&type_of(SENTIMENT, "\\x -> x"));
}

#[test]
fn stdlib_nn_and_losses() {
    let src = format!(
        "{}\n{}",
        include_str!("../../../stdlib/nn.dp"),
        include_str!("../../../stdlib/losses.dp")
    );
    expect![[r#"
        encode : (a -> b -> a) -> a -> List b -> a
        residual : (a -> a) -> a -> a
        compose : (a -> b) -> (c -> a) -> c -> b
        fraction : List Bool -> Float
        hit : Scores a -> a -> Float
        sq_dist : a -> a -> Float
        l1 : a -> Float
    "#]]
    .assert_eq(&check(&src));
}

#[test]
fn generative_unfold() {
    let src = r#"
vocab Char = ["a", "b", "c"]
rep State = R[16]
learn emit : State -> (Scores Char, State)
learn start : Char -> State
def gen (c : Char) : List Char =
  unfold 5 (\s -> let (sc, s2) = emit s in (argmax sc, s2)) (start c)
def first (c : Char) = fst (emit (start c))
def again c = snd (emit (start c))
"#;
    expect![[r#"
        gen : Char -> List Char
        first : Char -> Scores Char
        again : Char -> State
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn bidirectional_tagger() {
    let src = r#"
vocab Word
vocab Tag = ["N", "V", "D"]
rep E = R[8]
rep H = R[12]
learn embed : Word -> E
learn fwd : (H, E) -> (H, H)
learn bwd : (H, E) -> (H, H)
learn out : (H, H) -> Scores Tag
def tagger (ws : List Word) : List (Scores Tag) =
  let es = map embed ws in
  let (_, fs) = mapAccumL (\h e -> fwd (h, e)) zeros es in
  let (_, bs) = mapAccumR (\h e -> bwd (h, e)) zeros es in
  zipWith (\f b -> out (f, b)) fs bs
def tagLoss ((ws, ts) : (List Word, List Tag)) : Float =
  sumList (zipWith cross_entropy (tagger ws) ts)
def pairs (xs : List Word) = zip xs (reverse xs)
def n xs = length xs + 1
"#;
    expect![[r#"
        tagger : List Word -> List (Scores Tag)
        tagLoss : (List Word, List Tag) -> Float
        pairs : List Word -> List (Word, Word)
        n : List a -> Int
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn convolution_1d_and_2d() {
    let src = r#"
vocab Word
rep E = R[4]
rep F = R[6]
rep Pixel = R[3]
rep Feat = R[5]
vocab Digit = ["0", "1"]
learn embed : Word -> E
learn conv : Window[3] E -> F
learn conv2 : Window[2, 2] Pixel -> Feat
learn classify : Feat -> Scores Digit
def features (ws : List Word) : F =
  maxList (windowMap (\(w : Window[3] E) -> relu (conv w)) (map embed ws))
def direct (ws : List Word) = windowMap conv (map embed ws)
def image (g : Grid Pixel) : Scores Digit =
  classify (meanList (flatten (maxpool2 2 (windowMap2 (\w -> tanh (conv2 w)) g))))
def avg (w : Window[3] E) : E = sumList (elems w) / 3.0
def smooth (xs : List E) = windowMap avg xs
def total (w : Window[2, 2] Pixel) = sum w
def pix = (grid [[zeros, ones], [ones, zeros]] : Grid Pixel)
"#;
    expect![[r#"
        features : List Word -> F
        direct : List Word -> List F
        image : Grid Pixel -> Scores Digit
        avg : Window[3] E -> E
        smooth : List E -> List E
        total : Window[2, 2] Pixel -> Float
        pix : Grid Pixel
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn treenet_with_cata() {
    let src = r#"
vocab Word
vocab Sentiment = ["neg", "neu", "pos"]
rep H = R[10]
learn leafEmbed : Word -> H
learn combine : (H, H) -> H
learn judge : H -> Scores Sentiment
def encode (t : Tree Word) : H = cata leafEmbed (\l r -> tanh (combine (l, r))) t
def classify t = judge (encode t)
def sample = (node (leaf "a") (node (leaf "b") (leaf "c")) : Tree Word)
def size t = length (leaves t)
"#;
    expect![[r#"
        encode : Tree Word -> H
        classify : Tree Word -> Scores Sentiment
        sample : Tree Word
        size : Tree a -> Int
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn lista_with_params_and_matmul() {
    let src = r#"
rep Signal = R[8]
rep Code = R[16]
learn encodeS : Signal -> Code
learn mix : Code -> Code
param theta : Code
param scale : Float = 0.5
param w : R[2, 3] = [[1, 0, 0], [0, 1, -1.5]]
def lista (y : Signal) : Code =
  let b = encodeS y in
  iterate 3 (\z -> soft_threshold theta (mix z + b)) (soft_threshold theta b)
def hard (y : Signal) = hard_threshold theta (encodeS y) * scale
def sparse (y : Signal) = topk 3 (lista y)
def apply (x : R[3]) : R[2] = w @ x
def square (m : R[3, 3]) = m @ m
def lit = ([[1.0, 2.0], [3.0, 4.0]] : R[2, 2]) @ ([1, -1] : R[2])
def recon y = mse (lista y) (lista y) + norm (lista y)
"#;
    expect![[r#"
        lista : Signal -> Code
        hard : Signal -> Code
        sparse : Signal -> Code
        apply : R[3] -> R[2]
        square : R[3, 3] -> R[3, 3]
        lit : R[2]
        recon : Signal -> Float
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn arithmetic_rules() {
    let src = r#"
rep H = R[4]
def inc x = x + 1
def half x = x / 2.0
def twice x = x + x
def neg x = -x
def negI = -(3 + 4)
def scaleH (h : H) = 2 * h
def scaleH2 (h : H) = h * 0.5 - 1
def lit (h : H) = h + [1, 2, 3, 4]
def mixed (n : Int) (x : Float) = float n * x
def cmp (a : Int) b = a < b && b != 3
def pick (b : Bool) = if b then 1 else 2
def scaleAny (x : a) : a = x * 2.0
def join (a : H) (b : R[3]) = concat a b
def stats (h : H) = (sum h, mean h, max h, dot h h, softmax h, log_softmax h)
def elementwise (h : H) = sigmoid (exp (log (sqrt (abs h))))
def bce1 (x : Float) = bce x true
def scoreOf s y = score s y
"#;
    expect![[r#"
        inc : Int -> Int
        half : Float -> Float
        twice : a -> a
        neg : a -> a
        negI : Int
        scaleH : H -> H
        scaleH2 : H -> H
        lit : H -> H
        mixed : Int -> Float -> Float
        cmp : Int -> Int -> Bool
        pick : Bool -> Int
        scaleAny : a -> a
        join : H -> R[3] -> R[7]
        stats : H -> (Float, Float, Float, Float, H, H)
        elementwise : H -> H
        bce1 : Float -> Float
        scoreOf : Scores a -> a -> Float
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn aliases_and_annotations() {
    let src = r#"
type Sentence = List Word
type Pair = (Sentence, Label)
vocab Word
vocab Label = ["x", "y"]
rep H = R[2]
def firstWord (p : Pair) = fst p
def ident (x : a) : a = x
def konst (x : a) (y : b) : a = x
def swap ((x, y) : (a, b)) : (b, a) = (y, x)
def app f x = f x
def comp f g = \x -> f (g x)
def lbl = ("x" : Label)
def isX (l : Label) = l == "x"
def hs = ([zeros, ones, [1, 2]] : List H)
def nested = ([[1, 2], [3, 4]] : List (List Int))
def more = [1, 2] ++ [3]
def piped xs = xs |> map (\x -> x + 1) |> reverse
def unit = ()
"#;
    expect![[r#"
        firstWord : (List Word, Label) -> List Word
        ident : a -> a
        konst : a -> b -> a
        swap : (a, b) -> (b, a)
        app : (a -> b) -> a -> b
        comp : (a -> b) -> (c -> a) -> c -> b
        lbl : Label
        isX : Label -> Bool
        hs : List H
        nested : List (List Int)
        more : List Int
        piped : List Int -> List Int
        unit : ()
    "#]]
    .assert_eq(&check(src));
}

#[test]
fn seq2seq_and_captioning() {
    let src = r#"
vocab Src
vocab Tgt = ["<s>", "a", "b", "</s>"]
rep H = R[6]
rep Pixel = R[3]
learn emb : Src -> H
learn enc : (H, H) -> H
learn dec : H -> (Scores Tgt, H)
learn patch : Window[3, 3] Pixel -> H
def translate (xs : List Src) : List Tgt =
  let h = fold (\h x -> enc (h, emb x)) zeros xs in
  unfold 4 (\s -> let (sc, s2) = dec s in (argmax sc, s2)) h
def caption (img : Grid Pixel) : List Tgt =
  let h = meanList (flatten (windowMap2 patch img)) in
  unfold 3 (\s -> let (sc, s2) = dec s in (argmax sc, s2)) h
def takeDrop xs = (take 2 xs, drop 1 xs, last xs)
"#;
    expect![[r#"
        translate : List Src -> List Tgt
        caption : Grid Pixel -> List Tgt
        takeDrop : List a -> (List a, List a, a)
    "#]]
    .assert_eq(&check(src));
}
