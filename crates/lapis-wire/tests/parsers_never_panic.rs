//! Every parser, fed thousands of random and mutated inputs, returns a value or an Azure error.

use lapis_wire::time_format::{parse_http_date, parse_iso8601};
use lapis_wire::xml::{parse_block_list, parse_signed_identifiers, ServiceProperties};
use lapis_wire::ErrorCode;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: [&str; 4] = [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BlockList><Latest>AAAAAA==</Latest><Committed>AQ==</Committed><Uncommitted>Ag==</Uncommitted></BlockList>",
    "<SignedIdentifiers><SignedIdentifier><Id>a</Id><AccessPolicy><Start>2021-06-11T20:00:00Z</Start><Expiry>2049-06-11T20:00:00.1234567Z</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>",
    "<StorageServiceProperties><Logging><Version>1.0</Version><Read>true</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>true</Enabled><Days>7</Days></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version><Enabled>true</Enabled><IncludeAPIs>true</IncludeAPIs><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>GET</AllowedMethods><AllowedHeaders>x-*</AllowedHeaders><ExposedHeaders /><MaxAgeInSeconds>5</MaxAgeInSeconds></CorsRule></Cors><DeleteRetentionPolicy><Enabled>true</Enabled><Days>3</Days></DeleteRetentionPolicy><StaticWebsite><Enabled>true</Enabled></StaticWebsite></StorageServiceProperties>",
    "Sun, 06 Nov 1994 08:49:37 GMT 2022-08-11T15:07:27.9577152+02:00",
];

const ALPHABET: &[u8] = b"<>/=\"'&;!?[]-: \n\tabcDEF019Z.+T\xEF\xBB\xBF\xC3\xA9\x00";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            2 if at < bytes.len() => bytes[at] = rng.next() as u8,
            _ => bytes.truncate(at),
        }
    }
    bytes
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(64);
    (0..len)
        .map(|_| {
            if rng.below(2) == 0 {
                ALPHABET[rng.below(ALPHABET.len())]
            } else {
                rng.next() as u8
            }
        })
        .collect()
}

fn check_error(code: ErrorCode, input: &[u8]) {
    assert!(
        matches!(
            code,
            ErrorCode::InvalidXmlDocument | ErrorCode::InvalidXmlNodeValue
        ),
        "unexpected {code} for {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn xml_parsers_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..6000 {
        let input = if round % 3 == 0 {
            random_bytes(&mut rng)
        } else {
            let seed = SEEDS[rng.below(3)];
            mutate(&mut rng, seed.as_bytes())
        };
        if let Err(e) = parse_block_list(&input) {
            check_error(e.code, &input);
        }
        if let Err(e) = parse_signed_identifiers(&input) {
            check_error(e.code, &input);
        }
        if let Err(e) = ServiceProperties::parse(&input) {
            check_error(e.code, &input);
        }
    }
}

#[test]
fn date_parsers_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for round in 0..20000 {
        let input = if round % 2 == 0 {
            random_bytes(&mut rng)
        } else {
            mutate(&mut rng, SEEDS[3].as_bytes())
        };
        let text = String::from_utf8_lossy(&input);
        let _ = parse_http_date(&text);
        let _ = parse_iso8601(&text);
        for piece in text.split(' ') {
            let _ = parse_iso8601(piece);
        }
    }
}

/// The server keeps these in shared state and holds them across `.await`s.
#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<lapis_wire::AzureError>();
    assert_send_sync::<ServiceProperties>();
    assert_send_sync::<lapis_wire::xml::SignedIdentifierXml>();
    assert_send_sync::<lapis_wire::xml::BlobListItem<'static>>();
    assert_send_sync::<lapis_wire::xml::ContainerEntry<'static>>();
}
