// The test corpus: about 400 strings, deterministic (a fixed-seed PRNG), covering scripts, emoji, combining
// marks, whitespace runs, code, numbers and text that spells special tokens.
const fixed = [
  "", " ", "  ", "\t", "\n", "\r\n", "\n\n\n", " \n \n", "   leading", "trailing   ", "a  b   c    d",
  "Hello world", "Hello, world!", "hello   world\t\ttabs\n\nnewlines", "I'm sure you're right; they've done it, we'll see, he'd go.",
  "DON'T SHOUT, I'M HERE", "Don't", "isn't it 'quoted' text?", "a , b . c ! d ? e", "He said , \" yes \" .", "It 's n't ok 'm 've 're",
  "cafe\u0301", "café", "e\u0301\u0302\u0323", "A\u030A ring", "\u212B angstrom", "Ko\u0308ln und Ko\u0308nig", "n\u0303o", "\u1100\u1161\u11A8",
  "한국어 텍스트입니다", "日本語のテキストです。カタカナとひらがな", "中文文本，包括标点符号。", "繁體中文測試", "𠀀𠀁 extension B", "Ελληνικά κείμενα",
  "Русский текст с ЗАГЛАВНЫМИ буквами", "العربية نص", "עברית טקסט", "हिन्दी पाठ", "ภาษาไทย", "Tiếng Việt có dấu", "ქართული", "Ōkami Ünïcödé",
  "😀", "😀😃😄", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇫🇷🇯🇵 flags", "❤️ heart", "𝐀𝐁𝐂 bold math", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "emoji🙂inside", "a😀b😀c",
  "1", "12", "123", "1234", "12345678901234567890", "3.14159", "1,000,000", "-42", "0x1F", "1e-10", "٣٤٥ arabic digits", "１２３ fullwidth", "½ ² ⅷ",
  "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; i++) { sum += a[i]; }", "if x==1:\n\tprint('yes')\nelse:\n\tpass",
  "<div class=\"a\">text</div>", "SELECT * FROM t WHERE id = 3;", "https://example.com/path?q=1&r=2#frag", "user@example.com",
  "$ ls -la | grep foo > out.txt", "#include <stdio.h>", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "C:\\Users\\name\\file.txt",
  "\u00A0nbsp\u00A0", "ideographic\u3000space", "zero\u200Bwidth", "soft\u00ADhyphen", "\u2028line sep", "ﬁ ligature", "①②③", "ｆｕｌｌｗｉｄｔｈ",
  "<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>hello", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>",
  "<bos>text<eos>", "<start_of_turn>user\nhi<end_of_turn>", "<｜begin▁of▁sentence｜>x", "<｜User｜>hi<｜Assistant｜>", "<think>\n\n</think>\n\n", "a<s>b</s>c",
  "▁already▁meta", "▁▁", "  <table><tr><td>x</td></tr></table>", "\n\n\n\n\n\n", "\t\t\tindented", "mixed \t \n whitespace \r\n run",
];
const pools = {
  latin: "the quick brown fox jumps over lazy dog Lorem ipsum dolor sit amet consectetur adipiscing elit".split(" "),
  accents: ["naïve", "résumé", "façade", "Ångström", "über", "São", "niño", "crème brûlée", "Zürich", "Dvořák"],
  cjk: ["漢字", "東京", "学習", "人工知能", "こんにちは", "ありがとう", "テスト", "안녕하세요", "사랑", "机器学习", "深度"],
  emoji: ["😀", "🚀", "🎉", "👩‍💻", "🧑🏿‍🚀", "✨", "🔥", "🐍", "🦀", "🇩🇪", "☕", "⚡️"],
  marks: ["\u0301", "\u0300", "\u0308", "\u0327", "\u0323", "\u0302", "\u20DD", "\u0338"],
  space: [" ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\r\n", "\u00A0", "\u3000"],
  code: ["x = 1", "foo(bar)", "a[i] += 2;", "return;", "=>", "!=", "&&", "::", "/* c */", "// note", "print(\"hi\")", "`tick`"],
  num: ["0", "7", "42", "365", "2024", "99999", "3.5", "10%", "$12.50", "1/2", "-1", "#1"],
  punct: [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "...", "—", "–", "«", "»", "¿", "¡"],
};
function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
}
export function corpus() {
  const random = rng(20261202);
  const pick = a => a[Math.floor(random() * a.length)];
  const kinds = Object.keys(pools);
  const out = [...fixed];
  while (out.length < 400) {
    const n = 1 + Math.floor(random() * 12);
    let s = "";
    for (let i = 0; i < n; i++) {
      const kind = pick(kinds);
      let piece = pick(pools[kind]);
      if (kind === "marks") piece = pick("aeiouAEIOU") + piece;
      s += piece;
      if (random() < 0.6) s += random() < 0.85 ? " " : pick(pools.space);
    }
    out.push(s);
  }
  return out;
}
