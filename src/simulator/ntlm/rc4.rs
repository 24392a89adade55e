//! RC4, written out: NTLM sealing runs it over every reply body, and the
//! generic `rc4` crate is very slow in unoptimised (test) builds. Pinned by
//! the MS-NLMP sealing vector in `seal.rs`.

#[derive(Clone)]
pub struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    pub fn new(key: &[u8]) -> Rc4 {
        let mut s = [0u8; 256];
        for (i, b) in s.iter_mut().enumerate() {
            *b = i as u8;
        }
        if !key.is_empty() {
            let mut j: u8 = 0;
            for i in 0..256 {
                j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
                s.swap(i, j as usize);
            }
        }
        Rc4 { s, i: 0, j: 0 }
    }

    pub fn apply(&mut self, data: &mut [u8]) {
        let (mut i, mut j) = (self.i, self.j);
        let s = &mut self.s;
        for b in data.iter_mut() {
            // Written with plain loads and stores: debug builds run tests.
            i = i.wrapping_add(1);
            let si = s[i as usize];
            j = j.wrapping_add(si);
            let sj = s[j as usize];
            s[i as usize] = sj;
            s[j as usize] = si;
            *b ^= s[si.wrapping_add(sj) as usize];
        }
        self.i = i;
        self.j = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc6229_key_0102030405_first_bytes() {
        // RFC 6229, 40-bit key 0x0102030405, keystream offset 0.
        let mut r = Rc4::new(&[1, 2, 3, 4, 5]);
        let mut z = [0u8; 16];
        r.apply(&mut z);
        assert_eq!(hex::encode(z), "b2396305f03dc027ccc3524a0a1118a8");
    }

    #[test]
    fn split_application_equals_one_pass() {
        let mut a = Rc4::new(b"Key");
        let mut b = Rc4::new(b"Key");
        let mut x = *b"Plaintext stream";
        let mut y = x;
        a.apply(&mut x);
        b.apply(&mut y[..5]);
        b.apply(&mut y[5..]);
        assert_eq!(x, y);
        // The classic "Key"/"Plaintext" vector.
        let mut p = *b"Plaintext";
        Rc4::new(b"Key").apply(&mut p);
        assert_eq!(hex::encode(p), "bbf316e8d940af0ad3");
    }
}
