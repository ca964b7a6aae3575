//! Value enums with an `Other` fallback, so a new value never fails a parse.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as the provider writes it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = super::text::Text::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

open_enum! {
    /// The recipient's device, in `message.delivered` / `message.read`.
    ///
    /// ```
    /// use quickassist_webhooks::DeviceType;
    ///
    /// assert_eq!(DeviceType::from("ios"), DeviceType::Ios);
    /// assert_eq!(DeviceType::from("kaios"), DeviceType::Other("kaios".into()));
    /// ```
    DeviceType {
        /// `android`
        Android = "android",
        /// `ios`
        Ios = "ios",
        /// `web`
        Web = "web",
        /// `desktop`
        Desktop = "desktop",
    }
}

open_enum! {
    /// A message's delivery status: which of `message.delivered`, `message.read` and
    /// `message.failed` an event reports (the part after `message.`), or `Other` for a
    /// `message.*` event this version does not know (`message.sent`, `message.deleted`…).
    ///
    /// [`crate::status`] ranks these values to keep a message's status from moving
    /// backwards when events arrive out of order.
    ///
    /// ```
    /// use quickassist_webhooks::status::MessageStatus;
    ///
    /// assert_eq!(MessageStatus::from("read"), MessageStatus::Read);
    /// assert_eq!(MessageStatus::from("sent"), MessageStatus::Other("sent".into()));
    /// assert_eq!(MessageStatus::Failed.as_str(), "failed");
    /// ```
    MessageStatus {
        /// `delivered`: the message reached the recipient's device.
        Delivered = "delivered",
        /// `read`: the recipient read it (blue ticks).
        Read = "read",
        /// `failed`: the provider could not deliver it.
        Failed = "failed",
    }
}

open_enum! {
    /// A template's approval status, in `template.status_update`.
    ///
    /// ```
    /// use quickassist_webhooks::status::TemplateStatus;
    ///
    /// assert_eq!(TemplateStatus::from("approved"), TemplateStatus::Approved);
    /// assert_eq!(TemplateStatus::from("paused").as_str(), "paused");
    /// ```
    TemplateStatus {
        /// `pending`: submitted, awaiting review.
        Pending = "pending",
        /// `approved`: usable.
        Approved = "approved",
        /// `rejected`: refused by review.
        Rejected = "rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        for text in ["android", "ios", "web", "desktop", "smart-fridge"] {
            let value: DeviceType = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{text}\"")
            );
        }
        let status: TemplateStatus = serde_json::from_str(r#""in_appeal""#).unwrap();
        assert_eq!(status, TemplateStatus::Other("in_appeal".into()));
        assert!(serde_json::from_str::<TemplateStatus>("42").is_err());
        let status: MessageStatus = serde_json::from_str(r#""deleted""#).unwrap();
        assert_eq!(status, MessageStatus::Other("deleted".into()));
        assert_eq!(
            serde_json::to_string(&MessageStatus::Read).unwrap(),
            r#""read""#
        );
    }
}
