//! The ASN.1 of RFC 3161 time-stamp tokens: `TimeStampResp`, CMS `SignedData` (RFC 5652),
//! `TSTInfo` and the ESS signing-certificate attributes (RFC 5035). Only what verification reads
//! is typed; other parts are kept as raw DER.

use der::asn1::{AnyRef, BitStringRef, IntRef, ObjectIdentifier, OctetStringRef, Utf8StringRef};
use der::{
    Choice, Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence,
    SliceReader, Tag, Writer,
};
use spki::AlgorithmIdentifierRef;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

macro_rules! raw_tlv {
    ($(#[$doc:meta])* $name:ident, $tag:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) struct $name<'a>(pub &'a [u8]);

        impl<'a> DecodeValue<'a> for $name<'a> {
            type Error = der::Error;

            fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
                reader.read_slice(header.length()).map($name)
            }
        }

        impl EncodeValue for $name<'_> {
            fn value_len(&self) -> der::Result<Length> {
                Length::try_from(self.0.len())
            }

            fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
                writer.write(self.0)
            }
        }

        impl FixedTag for $name<'_> {
            const TAG: Tag = $tag;
        }
    };
}

raw_tlv!(
    /// The contents of a `SET` (or of an `IMPLICIT`-tagged `SET`), undecoded.
    RawSet,
    Tag::Set
);
raw_tlv!(
    /// The contents of a `SEQUENCE`, undecoded.
    RawSequence,
    Tag::Sequence
);
raw_tlv!(
    /// The characters of a `GeneralizedTime`, which may carry fractional seconds.
    RawGeneralizedTime,
    Tag::GeneralizedTime
);

impl<'a> RawSet<'a> {
    /// The elements, each decoded as `T`.
    pub(super) fn items<T: Decode<'a, Error = der::Error>>(&self) -> der::Result<Vec<T>> {
        let mut reader = SliceReader::new(self.0)?;
        let mut out = Vec::new();
        while !reader.is_finished() {
            out.push(T::decode(&mut reader)?);
        }
        Ok(out)
    }

    /// The DER of this set as a universal `SET OF`: what a CMS signature over signed
    /// attributes covers (RFC 5652, section 5.4).
    pub(super) fn to_set_der(self) -> der::Result<Vec<u8>> {
        let mut out = Header::new(Tag::Set, Length::try_from(self.0.len())?).to_der()?;
        out.extend_from_slice(self.0);
        Ok(out)
    }
}

/// `TimeStampResp` (RFC 3161, section 2.4.2).
#[derive(Sequence)]
pub(super) struct TimeStampResp<'a> {
    pub status: PkiStatusInfo<'a>,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo<'a>>,
}

/// `PKIStatusInfo`.
#[derive(Sequence)]
pub(super) struct PkiStatusInfo<'a> {
    pub status: u32,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitStringRef<'a>>,
}

/// `ContentInfo` (RFC 5652, section 3): the time-stamp token itself.
#[derive(Sequence)]
pub(super) struct ContentInfo<'a> {
    pub content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub content: AnyRef<'a>,
}

/// `SignedData` (RFC 5652, section 5.1).
#[derive(Sequence)]
pub(super) struct SignedData<'a> {
    pub version: u8,
    pub digest_algorithms: RawSet<'a>,
    pub encap_content_info: EncapsulatedContentInfo<'a>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<RawSet<'a>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub crls: Option<RawSet<'a>>,
    pub signer_infos: RawSet<'a>,
}

/// `EncapsulatedContentInfo`.
#[derive(Sequence)]
pub(super) struct EncapsulatedContentInfo<'a> {
    pub e_content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub e_content: Option<&'a OctetStringRef>,
}

/// `SignerInfo` (RFC 5652, section 5.3).
#[derive(Sequence)]
pub(super) struct SignerInfo<'a> {
    pub version: u8,
    pub sid: SignerIdentifier<'a>,
    pub digest_algorithm: AlgorithmIdentifierRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub signed_attrs: Option<RawSet<'a>>,
    pub signature_algorithm: AlgorithmIdentifierRef<'a>,
    pub signature: &'a OctetStringRef,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub unsigned_attrs: Option<RawSet<'a>>,
}

/// `SignerIdentifier`: who signed, by issuer and serial number or by subject key identifier.
#[derive(Choice)]
pub(super) enum SignerIdentifier<'a> {
    IssuerAndSerialNumber(IssuerAndSerialNumber),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    SubjectKeyIdentifier(&'a OctetStringRef),
}

/// `IssuerAndSerialNumber`.
#[derive(Sequence)]
pub(super) struct IssuerAndSerialNumber {
    pub issuer: Name,
    pub serial_number: SerialNumber,
}

/// `Attribute`, its values undecoded.
#[derive(Sequence)]
pub(super) struct Attribute<'a> {
    pub attr_type: ObjectIdentifier,
    pub attr_values: RawSet<'a>,
}

/// `TSTInfo` (RFC 3161, section 2.4.2).
#[derive(Sequence)]
pub(super) struct TstInfo<'a> {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint<'a>,
    pub serial_number: IntRef<'a>,
    pub gen_time: RawGeneralizedTime<'a>,
    #[asn1(optional = "true")]
    pub accuracy: Option<RawSequence<'a>>,
    #[asn1(optional = "true")]
    pub ordering: Option<bool>,
    #[asn1(optional = "true")]
    pub nonce: Option<IntRef<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<RawSequence<'a>>,
}

/// `MessageImprint`: the hash of the time-stamped data.
#[derive(Sequence)]
pub(super) struct MessageImprint<'a> {
    pub hash_algorithm: AlgorithmIdentifierRef<'a>,
    pub hashed_message: &'a OctetStringRef,
}

/// `SigningCertificateV2` (RFC 5035): hashes of the signing certificate, first.
#[derive(Sequence)]
pub(super) struct SigningCertificateV2<'a> {
    pub certs: Vec<EssCertIdV2<'a>>,
    #[asn1(optional = "true")]
    pub policies: Option<RawSequence<'a>>,
}

/// `ESSCertIDv2`; a missing hash algorithm means SHA-256.
#[derive(Sequence)]
pub(super) struct EssCertIdV2<'a> {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierRef<'a>>,
    pub cert_hash: &'a OctetStringRef,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<RawSequence<'a>>,
}

/// Reads a DER `GeneralizedTime` as (Unix seconds, nanoseconds): `YYYYMMDDHHMMSS[.f+]Z`, UTC.
pub(super) fn generalized_time(raw: RawGeneralizedTime<'_>) -> Option<(i64, u32)> {
    let text = std::str::from_utf8(raw.0).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| whole.get(range)?.parse::<u16>().ok();
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(8..10)?, num(10..12)?, num(12..14)?);
    let date = der::DateTime::new(
        year,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let nanos = match fraction {
        None => 0,
        // DER: digits, no trailing zero, at most nanosecond precision here.
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            if f.ends_with('0') {
                return None;
            }
            format!("{f:0<9}").parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    let secs = i64::try_from(date.unix_duration().as_secs()).ok()?;
    Some((secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(s: &str) -> Option<(i64, u32)> {
        generalized_time(RawGeneralizedTime(s.as_bytes()))
    }

    #[test]
    fn generalized_times() {
        assert_eq!(gt("19700101000000Z"), Some((0, 0)));
        assert_eq!(gt("20250612120220Z"), Some((1_749_729_740, 0)));
        assert_eq!(gt("20250612120220.5Z"), Some((1_749_729_740, 500_000_000)));
        assert_eq!(
            gt("20250612120220.123456789Z"),
            Some((1_749_729_740, 123_456_789))
        );
        for bad in [
            "20250612120220",
            "2025061212022Z",
            "20250612120220.Z",
            "20250612120220.50Z",
            "20250612120220.1234567891Z",
            "20251312120220Z",
            "2025061212022aZ",
            "20250612120220+0100",
        ] {
            assert_eq!(gt(bad), None, "{bad}");
        }
    }

    #[test]
    fn signed_attributes_are_re_tagged_as_a_set() {
        let set = RawSet(&[0x02, 0x01, 0x05]);
        assert_eq!(
            set.to_set_der().unwrap(),
            vec![0x31, 0x03, 0x02, 0x01, 0x05]
        );
        assert_eq!(set.items::<u8>().unwrap(), vec![5]);
        assert!(RawSet(&[0x02, 0x05, 0x01]).items::<u8>().is_err());
    }
}
