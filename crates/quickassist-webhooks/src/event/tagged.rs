//! Presents an event's name and `data` as the adjacently tagged map `{"event": …, "data": …}`,
//! so any `E: Deserialize` of that shape (our [`Event`](super::Event), or a user's
//! `#[serde(tag = "event", content = "data")]` enum) reads straight from the envelope without
//! buffering `data`.

use std::marker::PhantomData;

use serde::{
    de::{self, value::StrDeserializer, DeserializeSeed, MapAccess, Visitor},
    forward_to_deserialize_any, Deserialize, Deserializer,
};

/// Deserializes `E` from the event `name` and the deserializer of its `data`.
pub(super) struct TaggedSeed<'n, E> {
    pub(super) name: &'n str,
    pub(super) marker: PhantomData<E>,
}

impl<'de, E: Deserialize<'de>> DeserializeSeed<'de> for TaggedSeed<'_, E> {
    type Value = E;

    fn deserialize<D: Deserializer<'de>>(self, data: D) -> Result<E, D::Error> {
        E::deserialize(TaggedParts {
            name: self.name,
            data: Some(data),
        })
    }
}

/// A two-entry map: `event` → the name, then `data` → the wrapped deserializer (if any).
pub(super) struct TaggedParts<'n, D> {
    pub(super) name: &'n str,
    pub(super) data: Option<D>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TaggedParts<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_map(PartsAccess {
            name: self.name,
            data: self.data,
            next: Entry::Event,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Event,
    EventValue,
    Data,
    DataValue,
    End,
}

struct PartsAccess<'n, D> {
    name: &'n str,
    data: Option<D>,
    next: Entry,
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for PartsAccess<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, D::Error> {
        let key = match self.next {
            Entry::Event => "event",
            Entry::Data if self.data.is_some() => "data",
            _ => return Ok(None),
        };
        self.next = if key == "event" {
            Entry::EventValue
        } else {
            Entry::DataValue
        };
        seed.deserialize(StrDeserializer::<D::Error>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, D::Error> {
        match (self.next, self.data.take()) {
            (Entry::EventValue, data) => {
                self.data = data;
                self.next = Entry::Data;
                seed.deserialize(StrDeserializer::<D::Error>::new(self.name))
            }
            (Entry::DataValue, Some(data)) => {
                self.next = Entry::End;
                seed.deserialize(data)
            }
            _ => Err(de::Error::custom("value requested before its key")),
        }
    }
}
