// PerfOrch's timing harness (EFFICIENCY_PROTOCOL.md): value stream in, timed calls, results out.
// Appended to the candidate's file; `perforch_call` (generated) decodes one case and calls the function.
#[allow(dead_code)]
mod perforch_pvs {
    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::hash::Hash;

    pub struct Input { data: Vec<u8>, pub pos: usize }

    impl Input {
        pub fn new(data: Vec<u8>) -> Input { Input { data, pos: 0 } }
        pub fn token(&mut self) -> &[u8] {
            while self.pos < self.data.len() && self.data[self.pos].is_ascii_whitespace() { self.pos += 1; }
            let start = self.pos;
            while self.pos < self.data.len() && !self.data[self.pos].is_ascii_whitespace() && self.data[self.pos] != b':' {
                self.pos += 1;
            }
            if start == self.pos { panic!("perforch harness: the input ends early at byte {}", start); }
            &self.data[start..self.pos]
        }
        pub fn text(&mut self) -> String { String::from_utf8_lossy(self.token()).into_owned() }
        pub fn number<T: std::str::FromStr>(&mut self) -> T {
            let token = self.text();
            token.parse().unwrap_or_else(|_| panic!("perforch harness: bad number {:?}", token))
        }
        pub fn string_of(&mut self, length: usize) -> String {
            let start = self.pos + 1;
            self.pos = start + length;
            String::from_utf8_lossy(&self.data[start..self.pos]).into_owned()
        }
    }

    pub trait Take: Sized { fn take(input: &mut Input) -> Self; }

    macro_rules! numbers { ($($t:ty),*) => { $(impl Take for $t { fn take(i: &mut Input) -> $t { i.number() } })* } }
    numbers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

    impl Take for bool { fn take(i: &mut Input) -> bool { i.token() == b"1" } }
    impl Take for String { fn take(i: &mut Input) -> String { let n: usize = i.number(); i.string_of(n) } }
    impl Take for char { fn take(i: &mut Input) -> char { String::take(i).chars().next().unwrap_or('\0') } }
    impl<T: Take> Take for Vec<T> {
        fn take(i: &mut Input) -> Vec<T> { let n: usize = i.number(); (0..n).map(|_| T::take(i)).collect() }
    }
    impl<T: Take + Eq + Hash> Take for HashSet<T> {
        fn take(i: &mut Input) -> HashSet<T> { Vec::<T>::take(i).into_iter().collect() }
    }
    impl<T: Take> Take for Option<T> {
        fn take(i: &mut Input) -> Option<T> { if bool::take(i) { Some(T::take(i)) } else { None } }
    }
    impl<K: Take + Eq + Hash, V: Take> Take for HashMap<K, V> {
        fn take(i: &mut Input) -> HashMap<K, V> {
            let n: usize = i.number();
            (0..n).map(|_| { let k = K::take(i); (k, V::take(i)) }).collect()
        }
    }
    impl<K: Take + Ord, V: Take> Take for BTreeMap<K, V> {
        fn take(i: &mut Input) -> BTreeMap<K, V> {
            let n: usize = i.number();
            (0..n).map(|_| { let k = K::take(i); (k, V::take(i)) }).collect()
        }
    }
    impl<A: Take, B: Take> Take for (A, B) { fn take(i: &mut Input) -> (A, B) { let a = A::take(i); (a, B::take(i)) } }
    impl<A: Take, B: Take, C: Take> Take for (A, B, C) {
        fn take(i: &mut Input) -> (A, B, C) { let a = A::take(i); let b = B::take(i); (a, b, C::take(i)) }
    }
    impl Take for Box<dyn std::any::Any> {
        fn take(i: &mut Input) -> Box<dyn std::any::Any> {
            let token = i.text();
            let (tag, rest) = token.split_at(1);
            match tag {
                "i" => match rest.parse::<i32>() { Ok(v) => Box::new(v), Err(_) => Box::new(rest.parse::<i64>().unwrap()) },
                "f" => Box::new(rest.parse::<f64>().unwrap()),
                "b" => Box::new(rest == "1"),
                "s" => Box::new(i.string_of(rest.parse().unwrap())),
                "n" => Box::new(()),
                "l" | "t" | "S" => {
                    let n: usize = rest.parse().unwrap();
                    let items: Vec<Box<dyn std::any::Any>> = (0..n).map(|_| Self::take(i)).collect();
                    Box::new(items)
                }
                _ => panic!("perforch harness: unknown tag {:?}", token),
            }
        }
    }

    pub trait Put { fn put(&self, out: &mut Vec<u8>); }

    fn token(out: &mut Vec<u8>, text: &str) { out.extend_from_slice(text.as_bytes()); out.push(b' '); }
    macro_rules! integers { ($($t:ty),*) => { $(impl Put for $t { fn put(&self, o: &mut Vec<u8>) { token(o, &self.to_string()) } })* } }
    integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
    macro_rules! floats { ($($t:ty),*) => { $(impl Put for $t { fn put(&self, o: &mut Vec<u8>) { token(o, &format!("{:?}", self)) } })* } }
    floats!(f32, f64);
    impl Put for bool { fn put(&self, o: &mut Vec<u8>) { token(o, if *self { "1" } else { "0" }) } }
    impl Put for str {
        fn put(&self, o: &mut Vec<u8>) {
            o.extend_from_slice(format!("{}:", self.len()).as_bytes());
            o.extend_from_slice(self.as_bytes());
            o.push(b' ');
        }
    }
    impl Put for String { fn put(&self, o: &mut Vec<u8>) { self.as_str().put(o) } }
    impl Put for char { fn put(&self, o: &mut Vec<u8>) { self.to_string().put(o) } }
    impl<T: Put + ?Sized> Put for &T { fn put(&self, o: &mut Vec<u8>) { (**self).put(o) } }
    impl<T: Put> Put for Vec<T> {
        fn put(&self, o: &mut Vec<u8>) { self.len().put(o); for item in self { item.put(o); } }
    }
    impl<T: Put> Put for HashSet<T> {
        fn put(&self, o: &mut Vec<u8>) { self.len().put(o); for item in self { item.put(o); } }
    }
    impl<T: Put> Put for Option<T> {
        fn put(&self, o: &mut Vec<u8>) { match self { Some(v) => { true.put(o); v.put(o) } None => false.put(o) } }
    }
    impl<K: Put, V: Put> Put for HashMap<K, V> {
        fn put(&self, o: &mut Vec<u8>) { self.len().put(o); for (k, v) in self { k.put(o); v.put(o); } }
    }
    impl<K: Put, V: Put> Put for BTreeMap<K, V> {
        fn put(&self, o: &mut Vec<u8>) { self.len().put(o); for (k, v) in self { k.put(o); v.put(o); } }
    }
    impl<A: Put, B: Put> Put for (A, B) { fn put(&self, o: &mut Vec<u8>) { self.0.put(o); self.1.put(o) } }
    impl<A: Put, B: Put, C: Put> Put for (A, B, C) {
        fn put(&self, o: &mut Vec<u8>) { self.0.put(o); self.1.put(o); self.2.put(o) }
    }

    pub fn peak_rss_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status.lines().find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0)
    }
}

#[export_name = "main"]
pub extern "C" fn perforch_harness_main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).expect("perforch harness: cannot read the input file");
    let (warmups, runs): (usize, usize) = (args[3].parse().unwrap(), args[4].parse().unwrap());
    let mut input = perforch_pvs::Input::new(data);
    let cases: usize = input.number();
    let mut starts = Vec::with_capacity(cases);
    let mut results: Vec<u8> = Vec::new();
    for _ in 0..cases {  // decode every case once before timing anything: a bad input fails first
        starts.push(input.pos);
        perforch_call(&mut input, None, false);
    }
    for (case, start) in starts.iter().enumerate() {
        let mut line = format!("TIMES {}", case);
        for call in 0..warmups + runs {
            input.pos = *start;
            let nanos = perforch_call(&mut input, if call == 0 { Some(&mut results) } else { None }, true);
            if call >= warmups { line.push_str(&format!(" {}", nanos)); }
        }
        println!("{}", line);
    }
    std::fs::write(&args[2], &results).expect("perforch harness: cannot write the result file");
    println!("PEAK_RSS_KB {}", perforch_pvs::peak_rss_kb());
    0
}
