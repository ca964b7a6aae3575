//! The single-pass transducer: reads JSON text and writes its canonical form as it goes.
//!
//! Iterative (an explicit stack of open containers), so nesting cannot overflow the call stack.

use super::budget::{self, Budget};
use super::error::{CanonicalError, CanonicalErrorKind as Kind};
use super::object::{self, Member, ObjectFrame, Reorderer};
use super::{number, string, MAX_DEPTH};

#[derive(Debug)]
enum Frame {
    Array,
    Object(ObjectFrame),
}

/// What the loop expects next.
#[derive(Clone, Copy, Debug)]
enum Next {
    Value,
    /// A value just ended: a `,`, a closing bracket or the end of the input follows.
    AfterValue,
}

#[derive(Debug)]
pub(super) struct Transducer<'a> {
    input: &'a [u8],
    text: &'a str,
    pos: usize,
    out: &'a mut Vec<u8>,
    /// Where this document's output starts in `out`.
    base: usize,
    frames: Vec<Frame>,
    members: Vec<Member>,
    reorderer: Reorderer,
    budget: Budget,
}

impl<'a> Transducer<'a> {
    pub(super) fn new(
        input: &'a [u8],
        out: &'a mut Vec<u8>,
        budget: Budget,
    ) -> Result<Self, CanonicalError> {
        let text = std::str::from_utf8(input)
            .map_err(|e| CanonicalError::new(e.valid_up_to(), Kind::InvalidUtf8))?;
        Ok(Self {
            input,
            text,
            pos: 0,
            base: out.len(),
            out,
            frames: Vec::new(),
            members: Vec::new(),
            reorderer: Reorderer::default(),
            budget,
        })
    }

    pub(super) fn run(mut self) -> Result<(), CanonicalError> {
        let mut next = Next::Value;
        loop {
            next = match next {
                Next::Value => self.value()?,
                Next::AfterValue => {
                    if self.frames.is_empty() {
                        self.skip_whitespace();
                        if self.peek().is_some() {
                            return Err(self.error_here(Kind::TrailingCharacters));
                        }
                        if !self
                            .budget
                            .allows_output(self.input.len(), self.out.len() - self.base)
                        {
                            return Err(CanonicalError::new(self.pos, Kind::TooCostly));
                        }
                        self.reorderer.apply(self.out, self.base);
                        return Ok(());
                    }
                    self.after_value()?
                }
            };
        }
    }

    /// Starts the value at the cursor; a scalar is transduced whole.
    fn value(&mut self) -> Result<Next, CanonicalError> {
        self.skip_whitespace();
        self.charge(1)?;
        match self.peek() {
            Some(b'{') => {
                self.open(b'{')?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b'}') => self.close(b'}'),
                    Some(b'"') => {
                        let frame = ObjectFrame::new(self.out.len(), self.members.len());
                        self.frames.push(Frame::Object(frame));
                        self.key()
                    }
                    _ => Err(self.unexpected()),
                }
            }
            Some(b'[') => {
                self.open(b'[')?;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.close(b']')
                } else {
                    self.frames.push(Frame::Array);
                    Ok(Next::Value)
                }
            }
            Some(b'"') => {
                string::transduce(self.input, &mut self.pos, self.out)?;
                Ok(Next::AfterValue)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                if number::transduce(self.input, &mut self.pos, self.out)? {
                    self.charge_at(start, budget::UNITS_PER_SLOW_NUMBER)?;
                }
                Ok(Next::AfterValue)
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.unexpected()),
        }
    }

    /// After a value inside an open container: a `,` or the container's closing bracket.
    fn after_value(&mut self) -> Result<Next, CanonicalError> {
        let in_object = matches!(self.frames.last(), Some(Frame::Object(_)));
        if in_object {
            if let Some(member) = self.members.last_mut() {
                member.val_end = self.out.len();
            }
        }
        self.skip_whitespace();
        match (self.peek(), in_object) {
            (Some(b','), _) => {
                self.out.push(b',');
                self.pos += 1;
                if in_object {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b'"') => self.key(),
                        _ => Err(self.unexpected()),
                    }
                } else {
                    Ok(Next::Value)
                }
            }
            (Some(b']'), false) => {
                self.frames.pop();
                self.close(b']')
            }
            (Some(b'}'), true) => {
                if let Some(Frame::Object(frame)) = self.frames.pop() {
                    let members = self.members.get(frame.members_base..).unwrap_or_default();
                    if !self
                        .reorderer
                        .finish(&frame, members, self.out, &mut self.budget)
                    {
                        return Err(CanonicalError::new(self.pos, Kind::TooCostly));
                    }
                    self.members.truncate(frame.members_base);
                }
                self.close(b'}')
            }
            _ => Err(self.unexpected()),
        }
    }

    /// An object key at the cursor (its opening quote), then the `:`.
    fn key(&mut self) -> Result<Next, CanonicalError> {
        self.charge(1)?;
        let key_start = self.out.len();
        string::transduce(self.input, &mut self.pos, self.out)?;
        let key_end = self.out.len();
        let content = self.out.get(key_start + 1..key_end - 1).unwrap_or_default();
        let index = object::array_index(content);
        if let Some(Frame::Object(frame)) = self.frames.last_mut() {
            frame.note_key(index);
        }
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.unexpected());
        }
        self.out.push(b':');
        self.pos += 1;
        self.members.push(Member {
            key_start,
            key_end,
            val_end: key_end + 1,
            index,
        });
        Ok(Next::Value)
    }

    /// Writes the opening bracket at the cursor, refusing to nest deeper than [`MAX_DEPTH`].
    fn open(&mut self, bracket: u8) -> Result<(), CanonicalError> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(CanonicalError::new(self.pos, Kind::TooDeep));
        }
        self.out.push(bracket);
        self.pos += 1;
        Ok(())
    }

    fn close(&mut self, bracket: u8) -> Result<Next, CanonicalError> {
        self.out.push(bracket);
        self.pos += 1;
        Ok(Next::AfterValue)
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<Next, CanonicalError> {
        for (k, &expected) in word.iter().enumerate() {
            if self.input.get(self.pos + k) != Some(&expected) {
                self.pos += k;
                return Err(self.unexpected());
            }
        }
        self.out.extend_from_slice(word);
        self.pos += word.len();
        Ok(Next::AfterValue)
    }

    /// Takes `units` from the budget for the token at the cursor.
    fn charge(&mut self, units: u64) -> Result<(), CanonicalError> {
        self.charge_at(self.pos, units)
    }

    fn charge_at(&mut self, offset: usize, units: u64) -> Result<(), CanonicalError> {
        if self.budget.take(units) {
            Ok(())
        } else {
            Err(CanonicalError::new(offset, Kind::TooCostly))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The error for the character at the cursor (or for the end of the input).
    fn unexpected(&self) -> CanonicalError {
        match self.peek() {
            None => CanonicalError::new(self.pos, Kind::UnexpectedEnd),
            Some(_) => self.error_here(Kind::UnexpectedToken),
        }
    }

    /// An error naming the character at the cursor (the input is valid UTF-8, so it is whole).
    fn error_here(&self, kind: fn(char) -> Kind) -> CanonicalError {
        let c = self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        CanonicalError::new(self.pos, kind(c))
    }
}
