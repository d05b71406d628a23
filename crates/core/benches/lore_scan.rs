//! World-book scan benchmark: 10,000 entries / 30,000 keys against 50 messages,
//! compared with a SillyTavern-style matcher (one regex built per key per scan).
//!
//! Run: `cargo bench -p confab-core --bench lore_scan`

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use confab_core::lore::regex_keys::BOOK_REGEX_BUDGET;
use confab_core::lore::{
    compile, scan, Book, BookSettings, Entry, ScanInput, ScanMessage, TimedState,
};
use confab_core::tokens::default_counter;

const ENTRIES: usize = 10_000;
const KEYS_PER_ENTRY: usize = 3;
const MESSAGES: usize = 50;
const CHAINS: usize = 12;
const CHAIN_LEN: usize = 4;
const SCAN_RUNS: usize = 50;
const BASELINE_RUNS: usize = 3;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SYLLABLES: [&str; 32] = [
    "zor", "vath", "kel", "mir", "dra", "quen", "thal", "bryn", "xil", "oru", "fen", "gor", "lys",
    "nax", "pel", "rhu", "sev", "tor", "ulm", "vex", "wyn", "yrr", "zan", "kro", "mav", "nith",
    "ost", "phar", "qua", "ril", "sku", "tev",
];
const FILLER: [&str; 24] = [
    "the", "and", "of", "a", "to", "in", "was", "she", "he", "it", "with", "over", "under",
    "quiet", "old", "road", "night", "light", "said", "looked", "back", "toward", "city", "river",
];

fn word(rng: &mut Rng, used: &mut HashSet<String>) -> String {
    loop {
        let n = 3 + rng.below(2);
        let w: String = (0..n)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
            .collect();
        if used.insert(w.clone()) {
            return w;
        }
    }
}

fn filler(rng: &mut Rng, chars: usize) -> String {
    let mut s = String::new();
    while s.len() < chars {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(FILLER[rng.below(FILLER.len())]);
    }
    s
}

/// The book, the messages, and each entry's keys as the baseline needs them.
fn build() -> (Book, Vec<ScanMessage>) {
    let mut rng = Rng(42);
    let mut used = HashSet::new();
    let mut entries = Vec::with_capacity(ENTRIES);
    let mut regex_count = 0;
    for uid in 0..ENTRIES {
        let mut e = Entry::new(uid as u32);
        e.insertion_order = rng.below(1000) as i32;
        e.comment = format!("entry {uid}");
        let roll = rng.below(100);
        // 20% case-sensitive, 30% whole-word (disjoint ranges of the same roll).
        let case_sensitive = roll < 20;
        if case_sensitive {
            e.case_sensitive = Some(true);
        } else if roll < 50 {
            e.match_whole_words = Some(true);
        }
        for k in 0..KEYS_PER_ENTRY {
            let w = word(&mut rng, &mut used);
            // 5% of all keys are regexes; a few need look-around (fancy-regex).
            let key = if (uid * KEYS_PER_ENTRY + k) % 20 == 7 {
                regex_count += 1;
                if regex_count % 100 == 0 {
                    format!("/{w}(?!zzz)/i")
                } else {
                    format!("/{w}(s|es)?\\b/i")
                }
            } else if case_sensitive {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or(w)
            } else {
                w
            };
            e.keys.push(key);
        }
        let len = 120 + rng.below(120);
        e.content = filler(&mut rng, len);
        entries.push(e);
    }
    // Recursion chains: messages name the head; each link's content names the next.
    // Chain links are plain, case-insensitive, not whole-word, with room in the budget.
    let mut heads = Vec::new();
    for c in 0..CHAINS {
        for l in 0..CHAIN_LEN {
            let uid = 100 + c * CHAIN_LEN + l;
            let next_key = format!("link{c}x{}", l + 1);
            if let Some(e) = entries.get_mut(uid) {
                if let Some(k) = e.keys.first_mut() {
                    *k = format!("link{c}x{l}");
                }
                e.case_sensitive = None;
                e.match_whole_words = None;
                e.content = format!("{} {next_key}.", filler(&mut rng, 60));
            }
        }
        heads.push(format!("link{c}x0"));
    }
    // Plus ordinary keys mentioned in the chat, 60 entries' worth.
    let mut mentioned = Vec::new();
    for _ in 0..60 {
        let uid = 1000 + rng.below(ENTRIES - 1000);
        if let Some(k) = entries.get(uid).and_then(|e| e.keys.first()) {
            if !k.starts_with('/') {
                mentioned.push(k.clone());
            }
        }
    }
    let mut messages = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        let mut text = filler(&mut rng, 260);
        if let Some(h) = heads.get(i % 25) {
            text.push_str(&format!(" {h}"));
        }
        if let Some(k) = mentioned.get(i) {
            text.push_str(&format!(" {k},"));
        }
        text.push_str(&format!(" {}", filler(&mut rng, 20)));
        messages.push(ScanMessage {
            role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
            name: if i % 2 == 0 { "Ann" } else { "Mira" }.into(),
            content: text,
        });
    }
    let settings = BookSettings {
        scan_depth: MESSAGES as u32,
        recursive: true,
        max_recursion_steps: 4, // the first pass + three recursion levels
        ..BookSettings::default()
    };
    let book = Book {
        name: "bench".into(),
        description: String::new(),
        settings,
        entries,
        extensions: Default::default(),
    };
    (book, messages)
}

/// What SillyTavern does per scan: for every entry and key, build a regex and test it.
fn baseline(book: &Book, text: &str) -> usize {
    let lower = text.to_lowercase();
    let mut fired = 0;
    for e in &book.entries {
        let cs = e.case_sensitive.unwrap_or(false);
        let ww = e.match_whole_words.unwrap_or(false);
        let hay = if cs { text } else { lower.as_str() };
        for key in &e.keys {
            let re = if let Some(inner) = key.strip_prefix('/').and_then(|k| k.rsplit_once('/')) {
                let flags = if inner.1.contains('i') { "(?i)" } else { "" };
                regex::Regex::new(&format!("{flags}{}", inner.0)).ok()
            } else {
                let k = if cs { key.clone() } else { key.to_lowercase() };
                let escaped = regex::escape(&k);
                let pat = if ww {
                    format!(r"\b{escaped}\b")
                } else {
                    escaped
                };
                regex::Regex::new(&pat).ok()
            };
            if re.is_some_and(|r| r.is_match(hay)) {
                fired += 1;
                break;
            }
        }
    }
    fired
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let t = Instant::now();
    let counter = default_counter();
    counter.count("warm up");
    println!(
        "tokenizer (o200k_base) built once: {:.0} ms",
        ms(t.elapsed())
    );

    let (book, messages) = build();
    let keys: usize = book.entries.iter().map(|e| e.keys.len()).sum();
    let regexes: usize = book
        .entries
        .iter()
        .flat_map(|e| &e.keys)
        .filter(|k| k.starts_with('/'))
        .count();

    if std::env::var_os("LORE_BENCH_PARTS").is_some() {
        let t = Instant::now();
        let n: u32 = book.entries.iter().map(|e| counter.count(&e.content)).sum();
        println!(
            "  part: token counting {:.0} ms ({n} tokens)",
            ms(t.elapsed())
        );
        let pats: Vec<String> = book
            .entries
            .iter()
            .flat_map(|e| &e.keys)
            .filter(|k| k.starts_with('/') && !k.contains("(?!"))
            .map(|k| format!("(?i){}", &k[1..k.len() - 2]))
            .collect();
        let t = Instant::now();
        let singles: Vec<_> = pats
            .iter()
            .filter_map(|p| regex::Regex::new(p).ok())
            .collect();
        println!(
            "  part: {} single regexes {:.0} ms",
            singles.len(),
            ms(t.elapsed())
        );
        let t = Instant::now();
        let set = regex::RegexSet::new(&pats);
        println!(
            "  part: regex set {:.0} ms ok={}",
            ms(t.elapsed()),
            set.is_ok()
        );
        let text: String = messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if let Ok(set) = set {
            let t = Instant::now();
            let n = set.matches(&text).iter().count();
            println!("  part: set match {:.2} ms ({n})", ms(t.elapsed()));
            let t = Instant::now();
            let n = set.matches(&text).iter().count();
            println!("  part: set match again {:.2} ms ({n})", ms(t.elapsed()));
        }
    }
    let mut compile_times = Vec::new();
    let mut compiled = None;
    for _ in 0..5 {
        let t = Instant::now();
        let c = compile(&book, "bench", counter);
        compile_times.push(t.elapsed());
        compiled = Some(c);
    }
    let Some(Ok(compiled)) = compiled else {
        eprintln!("compile failed");
        return;
    };
    println!(
        "compile {} entries / {} keys ({} regex): median {:.1} ms (target < 200 ms)",
        book.entries.len(),
        keys,
        regexes,
        ms(median(compile_times))
    );

    let input = ScanInput {
        messages: messages.clone(),
        context_tokens: 32_768,
        ..ScanInput::default()
    };
    let books = [&compiled];
    let mut times = Vec::with_capacity(SCAN_RUNS);
    let mut report = None;
    for run in 0..SCAN_RUNS {
        let mut state = TimedState::default();
        let t = Instant::now();
        let r = scan(black_box(&books), black_box(&input), &mut state, run as u64);
        times.push(t.elapsed());
        report = Some(r);
    }
    let Some(report) = report else { return };
    let scan_median = median(times);
    println!(
        "scan {} messages: median {:.3} ms over {SCAN_RUNS} runs (target < 2 ms); {} activated, {} dropped, {} recursion levels, {} / {} budget tokens",
        messages.len(),
        ms(scan_median),
        report.activated.len(),
        report.dropped.len(),
        report.recursion_levels,
        report.tokens_used,
        report.budget
    );

    let text: String = messages
        .iter()
        .rev()
        .map(|m| format!("{}: {}", m.name, m.content))
        .collect::<Vec<_>>()
        .join("\n");
    let mut base_times = Vec::new();
    let mut fired = 0;
    for _ in 0..BASELINE_RUNS {
        let t = Instant::now();
        fired = baseline(black_box(&book), black_box(&text));
        base_times.push(t.elapsed());
    }
    let base = median(base_times);
    println!(
        "SillyTavern-style baseline (one regex per key per scan, first pass only, {fired} fired): {:.0} ms; ratio {:.0}x (target >= 50x)",
        ms(base),
        base.as_secs_f64() / scan_median.as_secs_f64().max(1e-9)
    );
    println!(
        "  regex keys of the book above: {:.1} MiB charged of the {} MiB budget, {} refused",
        compiled.regex_bytes() as f64 / (1 << 20) as f64,
        BOOK_REGEX_BUDGET >> 20,
        compiled.errors().len()
    );

    // A hostile book: 1,000 valid regex keys of ~330 KiB each (Unicode `\w`), 330 MB in all.
    let heavy = Book {
        name: "heavy".into(),
        description: String::new(),
        settings: BookSettings::default(),
        entries: (0..1000u32)
            .map(|uid| {
                let mut e = Entry::new(uid);
                e.keys = vec![format!(r"/\w{{6}}q{uid}z/")];
                e.content = "heavy".into();
                e
            })
            .collect(),
        extensions: Default::default(),
    };
    let t = Instant::now();
    let Ok(heavy_book) = compile(&heavy, "heavy", counter) else {
        eprintln!("the heavy book failed to compile");
        return;
    };
    println!(
        "heavy regex book (1,000 keys of ~330 KiB): compiled in {:.0} ms, {:.1} MiB kept of {} MiB, {} keys refused with their own error",
        ms(t.elapsed()),
        heavy_book.regex_bytes() as f64 / (1 << 20) as f64,
        BOOK_REGEX_BUDGET >> 20,
        heavy_book.errors().len()
    );
}
