//! The WQL subset the simulator understands:
//! `SELECT * | a, b FROM Class [WHERE cond]` with `=`, `<>`, `!=`, `<`, `>`,
//! `<=`, `>=`, `AND`, `OR`, `NOT`, parentheses, `IS [NOT] NULL`, string
//! literals in '…' or "…", integers and TRUE/FALSE.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` for `SELECT *`.
    pub properties: Option<Vec<String>>,
    pub class: String,
    pub condition: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        property: String,
        op: Op,
        value: Literal,
    },
    IsNull {
        property: String,
        negated: bool,
    },
}

impl Expr {
    /// Every property the condition names (to check they exist).
    pub fn properties(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.properties(out);
                b.properties(out);
            }
            Expr::Not(a) => a.properties(out),
            Expr::Compare { property, .. } | Expr::IsNull { property, .. } => {
                out.push(property.clone())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid WQL query at offset {offset}: {reason}")]
pub struct WqlError {
    pub offset: usize,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Star,
    Comma,
    LParen,
    RParen,
    Op(Op),
}

fn err(offset: usize, reason: &'static str) -> WqlError {
    WqlError { offset, reason }
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, WqlError> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&(pos, c)) = chars.get(i) {
        let next = chars.get(i + 1).map(|&(_, c)| c);
        match c {
            c if c.is_whitespace() => i += 1,
            '*' => {
                out.push((pos, Tok::Star));
                i += 1;
            }
            ',' => {
                out.push((pos, Tok::Comma));
                i += 1;
            }
            '(' => {
                out.push((pos, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((pos, Tok::RParen));
                i += 1;
            }
            '=' => {
                out.push((pos, Tok::Op(Op::Eq)));
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push((pos, Tok::Op(Op::Ne)));
                i += 2;
            }
            '<' => match next {
                Some('>') => {
                    out.push((pos, Tok::Op(Op::Ne)));
                    i += 2;
                }
                Some('=') => {
                    out.push((pos, Tok::Op(Op::Le)));
                    i += 2;
                }
                _ => {
                    out.push((pos, Tok::Op(Op::Lt)));
                    i += 1;
                }
            },
            '>' => {
                if next == Some('=') {
                    out.push((pos, Tok::Op(Op::Ge)));
                    i += 2;
                } else {
                    out.push((pos, Tok::Op(Op::Gt)));
                    i += 1;
                }
            }
            '\'' | '"' => {
                let quote = c;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(pos, "unterminated string literal")),
                        Some(&(_, ch)) if ch == quote => {
                            i += 1;
                            break;
                        }
                        // WQL escapes with a backslash.
                        Some(&(_, '\\')) => {
                            if let Some(&(_, esc)) = chars.get(i + 1) {
                                value.push(esc);
                            }
                            i += 2;
                        }
                        Some(&(_, ch)) => {
                            value.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push((pos, Tok::Str(value)));
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|&(_, d)| d.is_ascii_digit()) {
                    i += 1;
                }
                let text: String = chars
                    .get(start..i)
                    .unwrap_or_default()
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                let n = text.parse().map_err(|_| err(pos, "integer out of range"))?;
                out.push((pos, Tok::Int(n)));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|&(_, d)| d.is_alphanumeric() || d == '_')
                {
                    i += 1;
                }
                let text: String = chars
                    .get(start..i)
                    .unwrap_or_default()
                    .iter()
                    .map(|&(_, c)| c)
                    .collect();
                out.push((pos, Tok::Ident(text)));
            }
            _ => return Err(err(pos, "unexpected character")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.at).map(|(o, _)| *o).unwrap_or(self.end)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw)) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn ident(&mut self, what: &'static str) -> Result<String, WqlError> {
        let off = self.offset();
        match self.next() {
            Some(Tok::Ident(s)) if !is_reserved(&s) => Ok(s),
            _ => Err(err(off, what)),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut left = self.and(depth)?;
        while self.keyword("OR") {
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn and(&mut self, depth: usize) -> Result<Expr, WqlError> {
        let mut left = self.factor(depth)?;
        while self.keyword("AND") {
            let right = self.factor(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn factor(&mut self, depth: usize) -> Result<Expr, WqlError> {
        if depth > 32 {
            return Err(err(self.offset(), "condition nested too deeply"));
        }
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.factor(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.at += 1;
            let e = self.or(depth + 1)?;
            let off = self.offset();
            if self.next() != Some(Tok::RParen) {
                return Err(err(off, "expected )"));
            }
            return Ok(e);
        }
        let property = self.ident("expected a property name")?;
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            if !self.keyword("NULL") {
                return Err(err(self.offset(), "expected NULL"));
            }
            return Ok(Expr::IsNull { property, negated });
        }
        let off = self.offset();
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            _ => return Err(err(off, "expected a comparison operator")),
        };
        let off = self.offset();
        let value = match self.next() {
            Some(Tok::Str(s)) => Literal::Str(s),
            Some(Tok::Int(n)) => Literal::Int(n),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("TRUE") => Literal::Bool(true),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("FALSE") => Literal::Bool(false),
            _ => return Err(err(off, "expected a literal")),
        };
        Ok(Expr::Compare {
            property,
            op,
            value,
        })
    }
}

fn is_reserved(s: &str) -> bool {
    ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "NULL"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(s))
}

pub fn parse(text: &str) -> Result<Query, WqlError> {
    let mut p = Parser {
        toks: lex(text)?,
        at: 0,
        end: text.len(),
    };
    if !p.keyword("SELECT") {
        return Err(err(0, "expected SELECT"));
    }
    let properties = if p.peek() == Some(&Tok::Star) {
        p.at += 1;
        None
    } else {
        let mut props = vec![p.ident("expected * or a property list")?];
        while p.peek() == Some(&Tok::Comma) {
            p.at += 1;
            props.push(p.ident("expected a property name after ,")?);
        }
        Some(props)
    };
    if !p.keyword("FROM") {
        return Err(err(p.offset(), "expected FROM"));
    }
    let class = p.ident("expected a class name")?;
    let condition = if p.keyword("WHERE") {
        Some(p.or(0)?)
    } else {
        None
    };
    if p.peek().is_some() {
        return Err(err(p.offset(), "unexpected text after the query"));
    }
    Ok(Query {
        properties,
        class,
        condition,
    })
}

/// A property value as the condition sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Bool(bool),
}

impl Expr {
    /// Evaluates the condition; `lookup` returns a property's value.
    pub fn eval<'a>(&self, lookup: &dyn Fn(&str) -> Scalar<'a>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(lookup) && b.eval(lookup),
            Expr::Or(a, b) => a.eval(lookup) || b.eval(lookup),
            Expr::Not(a) => !a.eval(lookup),
            Expr::IsNull { property, negated } => (lookup(property) == Scalar::Null) != *negated,
            Expr::Compare {
                property,
                op,
                value,
            } => compare(lookup(property), *op, value),
        }
    }
}

fn compare(v: Scalar<'_>, op: Op, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, lit) {
        (Scalar::Null, _) => None,
        // WMI compares strings case-insensitively.
        (Scalar::Str(s), Literal::Str(l)) => Some(s.to_lowercase().cmp(&l.to_lowercase())),
        (Scalar::Str(s), Literal::Int(n)) => s.trim().parse::<i64>().ok().map(|x| x.cmp(n)),
        (Scalar::Int(x), Literal::Int(n)) => Some(x.cmp(n)),
        (Scalar::Int(x), Literal::Str(l)) => l.trim().parse::<i64>().ok().map(|n| x.cmp(&n)),
        (Scalar::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        (Scalar::Bool(b), Literal::Int(n)) => Some(i64::from(b).cmp(n)),
        (Scalar::Bool(b), Literal::Str(l)) => Some(b.to_string().cmp(&l.to_lowercase())),
        (Scalar::Int(_) | Scalar::Str(_), Literal::Bool(_)) => None,
    };
    match (ord, op) {
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_star_and_lists() {
        let q = parse("SELECT * FROM Msvm_ComputerSystem").unwrap();
        assert_eq!(q.properties, None);
        assert_eq!(q.class, "Msvm_ComputerSystem");
        let q = parse("select Name , State,StartMode from Win32_Service").unwrap();
        assert_eq!(q.properties.unwrap(), ["Name", "State", "StartMode"]);
    }

    #[test]
    fn where_with_quotes_precedence_and_parentheses() {
        let q = parse("SELECT * FROM X WHERE A='a' OR B=\"b\" AND C<>3").unwrap();
        let look = |a: &'static str, b: &'static str, c: i64| {
            move |p: &str| match p {
                "A" => Scalar::Str(a),
                "B" => Scalar::Str(b),
                "C" => Scalar::Int(c),
                _ => Scalar::Null,
            }
        };
        let cond = q.condition.unwrap();
        assert!(cond.eval(&look("A", "x", 3)), "case-insensitive A='a'");
        assert!(!cond.eval(&look("x", "b", 3)), "AND binds tighter than OR");
        assert!(cond.eval(&look("x", "b", 4)));
        let q = parse("SELECT * FROM X WHERE (A='a' OR B='b') AND C!=3").unwrap();
        assert!(!q.condition.unwrap().eval(&look("a", "x", 3)));
    }

    #[test]
    fn spec_queries_parse() {
        for q in [
            "SELECT Name, State, StartMode FROM Win32_Service WHERE Name='vmms'",
            "SELECT InstanceID, VirtualSystemIdentifier FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'",
            "SELECT PrivateProperties, Type FROM MSCluster_Resource WHERE Type='Network Name' AND Flags=1",
            "SELECT * FROM Msvm_VirtualSystemSettingData WHERE SettingType = 3",
            "SELECT * FROM X WHERE Y IS NOT NULL AND NOT Z = -1",
        ] {
            parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }

    #[test]
    fn malformed_queries_are_errors() {
        for q in [
            "",
            "SELECT",
            "SELECT * FROM",
            "SELECT a, FROM X",
            "SELECT * FROM X WHERE",
            "SELECT * FROM X WHERE A = 'open",
            "SELECT * FROM X WHERE (A=1",
            "SELECT * FROM X trailing",
            "DELETE FROM X",
            "SELECT * FROM X WHERE A ~ 1",
        ] {
            assert!(parse(q).is_err(), "{q}");
        }
        let deep = format!(
            "SELECT * FROM X WHERE {}A=1{}",
            "(".repeat(100),
            ")".repeat(100)
        );
        assert!(parse(&deep).is_err());
    }
}
