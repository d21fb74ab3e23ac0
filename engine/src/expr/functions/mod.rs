//! Scalar functions: their names, how arguments are coerced (Spark's implicit casts) and their
//! vectorised kernels. Each family has a file holding both halves of each of its functions, the
//! type rule (`check`) beside the kernel: string, array, conditional, math, datetime.

use arrow_array::ArrayRef;

use super::{Columnar, Expr};
use crate::error::{Error, Result};

mod aes;
mod array;
mod bitwise;
mod bytes;
mod collection;
mod conditional;
mod csv;
mod dates;
mod datetime;
mod encoding;
mod format;
mod hash;
mod json;
mod math;
mod misc;
pub(crate) mod murmur;
mod number_format;
mod numeric;
pub(crate) use numeric::remainder_by_zero;
mod pattern;
mod regex;
mod string;
mod text;
mod url;
mod words;
mod xxhash;
mod zones;

pub use self::array::array_index;
pub(crate) use self::collection::{build_map, same as same_value};
pub use self::datetime::{add_interval, spark_pattern_to_chrono};
pub use self::math::round_double;
#[cfg(test)]
use self::{datetime::*, math::*, string::*};
use crate::types::DataType;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Upper,
    Lower,
    Length,
    Trim,
    Ltrim,
    Rtrim,
    Concat,
    ConcatWs,
    Substring,
    Split,
    Size,
    ElementAt,
    TryElementAt,
    Coalesce,
    Abs,
    Round,
    Bround,
    Floor,
    Ceil,
    Sqrt,
    ToTimestamp,
    TryToTimestamp,
    DateTrunc,
    DateFormat,
    Year,
    Month,
    DayOfMonth,
    Hour,
    Minute,
    Second,
    /// `sort_array(arr [, ascending])`: NULLs first when ascending, last when descending.
    SortArray,
    /// `window_time(w)`: the last instant of a window (end - 1 µs), which keeps event time for a
    /// downstream window aggregation.
    WindowTime,
    /// `ts ± INTERVAL`: args are the timestamp, then literal months and microseconds to add.
    AddInterval,
    // Integral and bitwise operators (bitwise.rs).
    /// `a DIV b`.
    IntDiv,
    BitAnd,
    BitOr,
    BitXor,
    BitNot,
    ShiftLeft,
    ShiftRight,
    ShiftRightUnsigned,
    BitCount,
    // More string functions (text.rs).
    Replace,
    Translate,
    Initcap,
    Lpad,
    Rpad,
    Repeat,
    Reverse,
    Left,
    Right,
    Instr,
    Locate,
    SplitPart,
    Ascii,
    Chr,
    Soundex,
    Levenshtein,
    StartsWith,
    EndsWith,
    Contains,
    Space,
    SubstringIndex,
    OctetLength,
    BitLength,
    FormatString,
    // Regular expressions (regex.rs).
    RegexpLike,
    RegexpReplace,
    RegexpExtract,
    RegexpExtractAll,
    RegexpCount,
    RegexpSubstr,
    RegexpInstr,
    // Hashes (hash.rs).
    Md5,
    Sha1,
    Sha2,
    Crc32,
    // bytes.rs.
    Base64,
    Unbase64,
    Unhex,
    IsNan,
    DayName,
    MonthName,
    /// `hash(a, ...)`: Spark's Murmur3 hash (murmur.rs).
    Hash,
    // URL functions (url.rs).
    UrlEncode,
    UrlDecode,
    TryUrlDecode,
    ParseUrl,
    TryParseUrl,
    /// `find_in_set(s, list)`: the 1-based place of `s` in a comma-separated list, 0 if absent.
    FindInSet,
    /// `luhn_check(digits)`: whether a string of digits passes the Luhn checksum.
    LuhnCheck,
    // More math (math.rs).
    Pow,
    Ln,
    Log,
    Log10,
    Log2,
    Log1p,
    Exp,
    Expm1,
    Cbrt,
    Sign,
    Pmod,
    Hex,
    Bin,
    Factorial,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Cot,
    Sec,
    Csc,
    Degrees,
    Radians,
    Pi,
    E,
    Rint,
    Hypot,
    WidthBucket,
    Nanvl,
    TryAdd,
    TrySubtract,
    TryMultiply,
    TryDivide,
    TryMod,
    Greatest,
    Least,
    // More date and time (datetime.rs).
    UnixSeconds,
    UnixMillis,
    UnixMicros,
    UnixTimestamp,
    FromUnixtime,
    TimestampSeconds,
    TimestampMillis,
    TimestampMicros,
    DayOfWeek,
    WeekDay,
    DayOfYear,
    WeekOfYear,
    Quarter,
    /// `EXTRACT(SECOND FROM ts)`: seconds with their fraction.
    SecondWithFraction,
    // Arrays, maps and structs (collection.rs).
    MakeArray,
    MakeMap,
    NamedStruct,
    /// `m[k]`, `element_at(m, k)`: NULL for a missing key.
    MapValueAt,
    MapSize,
    ArraySize,
    ArrayContains,
    ArrayPosition,
    ArrayRemove,
    ArrayAppend,
    ArrayPrepend,
    MapKeys,
    MapValues,
    MapEntries,
    MapContainsKey,
    ArrayDistinct,
    ArrayCompact,
    /// `reverse` of an array.
    ArrayReverse,
    ArrayMax,
    ArrayMin,
    Flatten,
    /// `concat` of arrays.
    ArrayConcat,
    ArrayUnion,
    ArrayIntersect,
    ArrayExcept,
    ArraysOverlap,
    Sequence,
    Slice,
    ArrayJoin,
    ArraysZip,
    MapFromArrays,
    MapFromEntries,
    MapConcat,
    StrToMap,
    ArrayRepeat,
    Get,
    // Dates (dates.rs).
    ToDate,
    DateAdd,
    DateSub,
    DateDiff,
    AddMonths,
    MonthsBetween,
    LastDay,
    NextDay,
    /// `trunc(date, unit)`.
    TruncDate,
    MakeDate,
    /// `make_timestamp(y, mo, d, h, mi, s)` (also `make_timestamp_ltz`: TIMESTAMP is LTZ here).
    MakeTimestamp,
    TryMakeTimestamp,
    TryToDate,
    FromUtcTimestamp,
    ToUtcTimestamp,
    UnixDate,
    DateFromUnixDate,
    // JSON (json.rs).
    FromJson,
    ToJson,
    GetJsonObject,
    SchemaOfJson,
    /// The fields `json_tuple` generates, as one struct `c0, c1, ...` of strings.
    JsonTuple,
    // The BINARY forms of string functions, chosen by `for_args` (encoding.rs).
    BinaryLength,
    BinaryBitLength,
    BinarySubstring,
    BinaryLeft,
    BinaryLpad,
    BinaryRpad,
    BinaryReverse,
    BinaryContains,
    BinaryStartsWith,
    BinaryEndsWith,
    BinaryConcat,
    Overlay,
    BinaryOverlay,
    Encode,
    Decode,
    ToBinary,
    TryToBinary,
    ToBase32,
    FromBase32,
    IsValidUtf8,
    MakeValidUtf8,
    ValidateUtf8,
    TryValidateUtf8,
    // words.rs.
    Elt,
    Mask,
    Quote,
    Sentences,
    JaroWinklerSimilarity,
    Collation,
    FormatNumber,
    /// `instr(str, substr, start[, occurrence])`.
    InstrFrom,
    // misc.rs.
    AssertTrue,
    BitmapBitPosition,
    BitmapBucketNumber,
    BitmapCount,
    Hmac,
    Conv,
    BitGet,
    ArrayInsert,
    XxHash64,
    /// `to_char(number | binary, format)` (a date or timestamp is date_format).
    ToChar,
    /// `to_number(text, format)` and `try_to_number`: a DECIMAL as the format reads it.
    ToNumber,
    TryToNumber,
    /// `sequence(start, stop, INTERVAL ...)` of dates or timestamps: (start, stop, months, micros).
    SequenceTime,
    /// `time_bucket(INTERVAL ..., ts[, origin])`: (months, micros, ts, origin).
    TimeBucket,
    // JSON shapes (json.rs).
    JsonArrayLength,
    JsonObjectKeys,
    // CSV (csv.rs).
    FromCsv,
    ToCsv,
    SchemaOfCsv,
    // AES (aes.rs).
    AesDecrypt,
    TryAesDecrypt,
}

/// Every function added after the first families, with its SQL names (the first is the one
/// [`Func::name`] gives). One table, so a name cannot be forgotten in one of the lists.
const MORE: &[(Func, &[&str])] = &[
    (Func::IntDiv, &["div"]),
    (Func::BitAnd, &["&"]),
    (Func::BitOr, &["|"]),
    (Func::BitXor, &["^"]),
    (Func::BitNot, &["~"]),
    (Func::ShiftLeft, &["shiftleft"]),
    (Func::ShiftRight, &["shiftright"]),
    (Func::ShiftRightUnsigned, &["shiftrightunsigned"]),
    (Func::BitCount, &["bit_count"]),
    (Func::Replace, &["replace"]),
    (Func::Translate, &["translate"]),
    (Func::Initcap, &["initcap"]),
    (Func::Lpad, &["lpad"]),
    (Func::Rpad, &["rpad"]),
    (Func::Repeat, &["repeat"]),
    (Func::Reverse, &["reverse"]),
    (Func::Left, &["left"]),
    (Func::Right, &["right"]),
    (Func::Instr, &["instr"]),
    (Func::Locate, &["locate", "position"]),
    (Func::SplitPart, &["split_part"]),
    (Func::Ascii, &["ascii"]),
    (Func::Chr, &["chr", "char"]),
    (Func::Soundex, &["soundex"]),
    (Func::Levenshtein, &["levenshtein"]),
    (Func::StartsWith, &["startswith"]),
    (Func::EndsWith, &["endswith"]),
    (Func::Contains, &["contains"]),
    (Func::Space, &["space"]),
    (Func::SubstringIndex, &["substring_index"]),
    (Func::OctetLength, &["octet_length"]),
    (Func::BitLength, &["bit_length"]),
    (Func::FormatString, &["format_string", "printf"]),
    (Func::RegexpLike, &["rlike", "regexp", "regexp_like"]),
    (Func::RegexpReplace, &["regexp_replace"]),
    (Func::RegexpExtract, &["regexp_extract"]),
    (Func::RegexpExtractAll, &["regexp_extract_all"]),
    (Func::RegexpCount, &["regexp_count"]),
    (Func::RegexpSubstr, &["regexp_substr"]),
    (Func::RegexpInstr, &["regexp_instr"]),
    (Func::Md5, &["md5"]),
    (Func::Sha1, &["sha1", "sha"]),
    (Func::Sha2, &["sha2"]),
    (Func::Crc32, &["crc32"]),
    (Func::Hash, &["hash"]),
    (Func::Base64, &["base64"]),
    (Func::Unbase64, &["unbase64"]),
    (Func::Unhex, &["unhex"]),
    (Func::IsNan, &["isnan"]),
    (Func::DayName, &["dayname"]),
    (Func::MonthName, &["monthname"]),
    (Func::UrlEncode, &["url_encode"]),
    (Func::UrlDecode, &["url_decode"]),
    (Func::TryUrlDecode, &["try_url_decode"]),
    (Func::ParseUrl, &["parse_url"]),
    (Func::TryParseUrl, &["try_parse_url"]),
    (Func::FindInSet, &["find_in_set"]),
    (Func::LuhnCheck, &["luhn_check"]),
    (Func::Pow, &["pow", "power"]),
    (Func::Ln, &["ln"]),
    (Func::Log, &["log"]),
    (Func::Log10, &["log10"]),
    (Func::Log2, &["log2"]),
    (Func::Log1p, &["log1p"]),
    (Func::Exp, &["exp"]),
    (Func::Expm1, &["expm1"]),
    (Func::Cbrt, &["cbrt"]),
    (Func::Sign, &["sign", "signum"]),
    (Func::Pmod, &["pmod"]),
    (Func::Hex, &["hex"]),
    (Func::Bin, &["bin"]),
    (Func::Factorial, &["factorial"]),
    (Func::Sin, &["sin"]),
    (Func::Cos, &["cos"]),
    (Func::Tan, &["tan"]),
    (Func::Asin, &["asin"]),
    (Func::Acos, &["acos"]),
    (Func::Atan, &["atan"]),
    (Func::Atan2, &["atan2"]),
    (Func::Sinh, &["sinh"]),
    (Func::Cosh, &["cosh"]),
    (Func::Tanh, &["tanh"]),
    (Func::Asinh, &["asinh"]),
    (Func::Acosh, &["acosh"]),
    (Func::Atanh, &["atanh"]),
    (Func::Cot, &["cot"]),
    (Func::Sec, &["sec"]),
    (Func::Csc, &["csc"]),
    (Func::Degrees, &["degrees"]),
    (Func::Radians, &["radians"]),
    (Func::Pi, &["pi"]),
    (Func::E, &["e"]),
    (Func::Rint, &["rint"]),
    (Func::Hypot, &["hypot"]),
    (Func::WidthBucket, &["width_bucket"]),
    (Func::Nanvl, &["nanvl"]),
    (Func::TryAdd, &["try_add"]),
    (Func::TrySubtract, &["try_subtract"]),
    (Func::TryMultiply, &["try_multiply"]),
    (Func::TryDivide, &["try_divide"]),
    (Func::TryMod, &["try_mod"]),
    (Func::Greatest, &["greatest"]),
    (Func::Least, &["least"]),
    (Func::UnixSeconds, &["unix_seconds"]),
    (Func::UnixMillis, &["unix_millis"]),
    (Func::UnixMicros, &["unix_micros"]),
    (Func::UnixTimestamp, &["unix_timestamp", "to_unix_timestamp"]),
    (Func::FromUnixtime, &["from_unixtime"]),
    (Func::TimestampSeconds, &["timestamp_seconds"]),
    (Func::TimestampMillis, &["timestamp_millis"]),
    (Func::TimestampMicros, &["timestamp_micros"]),
    (Func::DayOfWeek, &["dayofweek"]),
    (Func::WeekDay, &["weekday"]),
    (Func::DayOfYear, &["dayofyear"]),
    (Func::WeekOfYear, &["weekofyear"]),
    (Func::Quarter, &["quarter"]),
    (Func::SecondWithFraction, &["extract_second"]),
    (Func::MakeArray, &["array"]),
    (Func::MakeMap, &["map"]),
    (Func::NamedStruct, &["named_struct"]),
    (Func::ArraySize, &["array_size"]),
    (Func::ArrayContains, &["array_contains"]),
    (Func::ArrayPosition, &["array_position"]),
    (Func::ArrayRemove, &["array_remove"]),
    (Func::ArrayAppend, &["array_append"]),
    (Func::ArrayPrepend, &["array_prepend"]),
    (Func::MapKeys, &["map_keys"]),
    (Func::MapValues, &["map_values"]),
    (Func::MapEntries, &["map_entries"]),
    (Func::MapContainsKey, &["map_contains_key"]),
    (Func::ArrayDistinct, &["array_distinct"]),
    (Func::ArrayCompact, &["array_compact"]),
    (Func::ArrayMax, &["array_max"]),
    (Func::ArrayMin, &["array_min"]),
    (Func::Flatten, &["flatten"]),
    (Func::ArrayUnion, &["array_union"]),
    (Func::ArrayIntersect, &["array_intersect"]),
    (Func::ArrayExcept, &["array_except"]),
    (Func::ArraysOverlap, &["arrays_overlap"]),
    (Func::Sequence, &["sequence"]),
    (Func::Slice, &["slice"]),
    (Func::ArrayJoin, &["array_join"]),
    (Func::ArraysZip, &["arrays_zip"]),
    (Func::MapFromArrays, &["map_from_arrays"]),
    (Func::MapFromEntries, &["map_from_entries"]),
    (Func::MapConcat, &["map_concat"]),
    (Func::StrToMap, &["str_to_map"]),
    (Func::ArrayRepeat, &["array_repeat"]),
    (Func::Get, &["get"]),
    (Func::ToDate, &["to_date"]),
    (Func::DateAdd, &["date_add", "dateadd"]),
    (Func::DateSub, &["date_sub"]),
    (Func::DateDiff, &["datediff", "date_diff"]),
    (Func::AddMonths, &["add_months"]),
    (Func::MonthsBetween, &["months_between"]),
    (Func::LastDay, &["last_day"]),
    (Func::NextDay, &["next_day"]),
    (Func::TruncDate, &["trunc"]),
    (Func::MakeDate, &["make_date"]),
    (Func::MakeTimestamp, &["make_timestamp", "make_timestamp_ltz"]),
    (Func::TryMakeTimestamp, &["try_make_timestamp", "try_make_timestamp_ltz"]),
    (Func::TryToDate, &["try_to_date"]),
    (Func::FromUtcTimestamp, &["from_utc_timestamp"]),
    (Func::ToUtcTimestamp, &["to_utc_timestamp"]),
    (Func::UnixDate, &["unix_date"]),
    (Func::DateFromUnixDate, &["date_from_unix_date"]),
    (Func::FromJson, &["from_json"]),
    (Func::ToJson, &["to_json"]),
    (Func::GetJsonObject, &["get_json_object"]),
    (Func::SchemaOfJson, &["schema_of_json"]),
    (Func::JsonTuple, &["json_tuple"]),
    (Func::Overlay, &["overlay"]),
    (Func::Encode, &["encode"]),
    // `decode(expr, search, result, ...)` is rewritten into CASE by the analyzer.
    (Func::Decode, &["decode"]),
    (Func::ToBinary, &["to_binary"]),
    (Func::TryToBinary, &["try_to_binary"]),
    (Func::ToBase32, &["to_base32"]),
    (Func::FromBase32, &["from_base32"]),
    (Func::IsValidUtf8, &["is_valid_utf8"]),
    (Func::MakeValidUtf8, &["make_valid_utf8"]),
    (Func::ValidateUtf8, &["validate_utf8"]),
    (Func::TryValidateUtf8, &["try_validate_utf8"]),
    (Func::Elt, &["elt"]),
    (Func::Mask, &["mask"]),
    (Func::Quote, &["quote"]),
    (Func::Sentences, &["sentences"]),
    (Func::JaroWinklerSimilarity, &["jaro_winkler_similarity"]),
    (Func::Collation, &["collation"]),
    (Func::FormatNumber, &["format_number"]),
    (Func::AssertTrue, &["assert_true"]),
    (Func::BitmapBitPosition, &["bitmap_bit_position"]),
    (Func::BitmapBucketNumber, &["bitmap_bucket_number"]),
    (Func::BitmapCount, &["bitmap_count"]),
    (Func::Hmac, &["hmac"]),
    (Func::Conv, &["conv"]),
    (Func::BitGet, &["bit_get", "getbit"]),
    (Func::ArrayInsert, &["array_insert"]),
    (Func::XxHash64, &["xxhash64"]),
    (Func::ToChar, &["to_char", "to_varchar"]),
    (Func::ToNumber, &["to_number"]),
    (Func::TryToNumber, &["try_to_number"]),
    (Func::JsonArrayLength, &["json_array_length"]),
    (Func::JsonObjectKeys, &["json_object_keys"]),
    (Func::FromCsv, &["from_csv"]),
    (Func::ToCsv, &["to_csv"]),
    (Func::SchemaOfCsv, &["schema_of_csv"]),
    (Func::AesDecrypt, &["aes_decrypt"]),
    (Func::TryAesDecrypt, &["try_aes_decrypt"]),
];

/// Functions the analyzer rewrites into other expressions (IS NULL, `<=>`, CASE).
const REWRITTEN: &[&str] = &["isnull", "isnotnull", "equal_null", "nvl2", "zeroifnull", "nullifzero"];

/// Names in [`MORE`] that are operators, not callable by name.
fn callable(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic()) && name != "div" && name != "extract_second" && name != "json_tuple"
}

impl Func {
    /// Looks a function up by its SQL name (case-insensitive).
    pub fn by_name(name: &str) -> Option<Func> {
        Some(match name.to_ascii_lowercase().as_str() {
            "upper" | "ucase" => Func::Upper,
            "lower" | "lcase" => Func::Lower,
            "length" | "char_length" | "character_length" | "len" => Func::Length,
            "trim" => Func::Trim,
            "ltrim" => Func::Ltrim,
            "rtrim" => Func::Rtrim,
            "concat" => Func::Concat,
            "concat_ws" => Func::ConcatWs,
            "substring" | "substr" => Func::Substring,
            "split" => Func::Split,
            "size" | "cardinality" => Func::Size,
            "element_at" => Func::ElementAt,
            "try_element_at" => Func::TryElementAt,
            "coalesce" | "ifnull" | "nvl" => Func::Coalesce,
            "abs" => Func::Abs,
            "round" => Func::Round,
            "bround" => Func::Bround,
            "floor" => Func::Floor,
            "ceil" | "ceiling" => Func::Ceil,
            "sqrt" => Func::Sqrt,
            // TIMESTAMP is Spark's TIMESTAMP_LTZ here (the session time zone is UTC).
            "to_timestamp" | "to_timestamp_ltz" => Func::ToTimestamp,
            "try_to_timestamp" => Func::TryToTimestamp,
            "date_trunc" => Func::DateTrunc,
            "date_format" => Func::DateFormat,
            "year" => Func::Year,
            "month" => Func::Month,
            "day" | "dayofmonth" => Func::DayOfMonth,
            "hour" => Func::Hour,
            "minute" => Func::Minute,
            "second" => Func::Second,
            "sort_array" => Func::SortArray,
            "window_time" => Func::WindowTime,
            "btrim" => Func::Trim,
            other => return MORE.iter().find(|(_, names)| names.contains(&other) && callable(other)).map(|(f, _)| *f),
        })
    }

    /// Every name a person can call: [`Func::NAMES`] (the first families, which the fuzz
    /// generator draws from) and the later ones.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .copied()
            .chain(MORE.iter().flat_map(|(_, names)| names.iter().copied()).filter(|n| callable(n)))
            .chain(["btrim", "mod", "positive", "negative"])
            .chain(super::HigherOrderFunc::NAMES.iter().copied())
            .chain(REWRITTEN.iter().copied())
    }

    /// Every name a person can call, for "did you mean" and the editor's completion.
    pub const NAMES: &'static [&'static str] = &[
        "abs",
        "bround",
        "ceil",
        "ceiling",
        "char_length",
        "coalesce",
        "concat",
        "concat_ws",
        "date_format",
        "date_trunc",
        "day",
        "dayofmonth",
        "element_at",
        "floor",
        "hour",
        "ifnull",
        "lcase",
        "length",
        "lower",
        "ltrim",
        "minute",
        "month",
        "nvl",
        "round",
        "rtrim",
        "second",
        "size",
        "split",
        "sqrt",
        "substr",
        "substring",
        "to_timestamp",
        "trim",
        "try_element_at",
        "try_to_timestamp",
        "ucase",
        "upper",
        "year",
        "cast",
        "try_cast",
        "if",
        "nullif",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Upper => "upper",
            Func::Lower => "lower",
            Func::Length => "length",
            Func::Trim => "trim",
            Func::Ltrim => "ltrim",
            Func::Rtrim => "rtrim",
            Func::Concat => "concat",
            Func::ConcatWs => "concat_ws",
            Func::Substring => "substring",
            Func::Split => "split",
            Func::Size => "size",
            Func::ElementAt => "element_at",
            Func::TryElementAt => "try_element_at",
            Func::Coalesce => "coalesce",
            Func::Abs => "abs",
            Func::Round => "round",
            Func::Bround => "bround",
            Func::Floor => "floor",
            Func::Ceil => "ceil",
            Func::Sqrt => "sqrt",
            Func::ToTimestamp => "to_timestamp",
            Func::TryToTimestamp => "try_to_timestamp",
            Func::DateTrunc => "date_trunc",
            Func::DateFormat => "date_format",
            Func::Year => "year",
            Func::Month => "month",
            Func::DayOfMonth => "dayofmonth",
            Func::Hour => "hour",
            Func::Minute => "minute",
            Func::Second => "second",
            Func::SortArray => "sort_array",
            Func::WindowTime => "window_time",
            Func::AddInterval => "timestampadd",
            // The collection forms of functions named for strings or arrays.
            Func::ArrayConcat => "concat",
            Func::ArrayReverse => "reverse",
            Func::MapSize => "size",
            Func::MapValueAt => "element_at",
            Func::BinaryLength => "length",
            Func::BinaryBitLength => "bit_length",
            Func::BinarySubstring => "substring",
            Func::BinaryLeft => "left",
            Func::BinaryLpad => "lpad",
            Func::BinaryRpad => "rpad",
            Func::BinaryReverse => "reverse",
            Func::BinaryContains => "contains",
            Func::BinaryStartsWith => "startswith",
            Func::BinaryEndsWith => "endswith",
            Func::BinaryConcat => "concat",
            Func::BinaryOverlay => "overlay",
            Func::InstrFrom => "instr",
            Func::SequenceTime => "sequence",
            Func::TimeBucket => "time_bucket",
            other => MORE.iter().find(|(f, _)| *f == other).and_then(|(_, names)| names.first().copied()).unwrap_or("?"),
        }
    }

    /// Checks the arguments, inserts Spark's implicit casts and returns the result type.
    /// The function's argument rules (Spark's implicit casts) and result type: in the file of
    /// its family, beside its kernel.
    pub fn check(self, args: Vec<Expr>) -> Result<(Vec<Expr>, DataType)> {
        let c = Checks { func: self, n: args.len() };
        match self.family() {
            Family::String => string::check(self, args, &c),
            Family::Array => array::check(self, args, &c),
            Family::Conditional => conditional::check(self, args, &c),
            Family::Math => math::check(self, args, &c),
            Family::DateTime => datetime::check(self, args, &c),
            Family::Bitwise => bitwise::check(self, args, &c),
            Family::Text => text::check(self, args, &c),
            Family::Regex => regex::check(self, args, &c),
            Family::Hash => hash::check(self, args, &c),
            Family::Numeric => numeric::check(self, args, &c),
            Family::Collection => collection::check(self, args, &c),
            Family::Dates => dates::check(self, args, &c),
            Family::Json => json::check(self, args, &c),
            Family::Csv => csv::check(self, args, &c),
            Family::Aes => aes::check(self, args, &c),
            Family::Url => url::check(self, args, &c),
            Family::Murmur => murmur::check(self, args, &c),
            Family::Bytes => bytes::check(self, args, &c),
            Family::Encoding => encoding::check(self, args, &c),
            Family::Words => words::check(self, args, &c),
            Family::Misc => misc::check(self, args, &c),
            Family::XxHash => xxhash::check(self, args, &c),
            Family::NumberFormat => number_format::check(self, args, &c),
        }
    }

    fn family(self) -> Family {
        match self {
            Func::Upper
            | Func::Lower
            | Func::Length
            | Func::Trim
            | Func::Ltrim
            | Func::Rtrim
            | Func::Concat
            | Func::ConcatWs
            | Func::Substring
            | Func::Split => Family::String,
            Func::Size | Func::ElementAt | Func::TryElementAt | Func::SortArray => Family::Array,
            Func::Coalesce => Family::Conditional,
            Func::ToTimestamp
            | Func::TryToTimestamp
            | Func::DateTrunc
            | Func::DateFormat
            | Func::Year
            | Func::Month
            | Func::DayOfMonth
            | Func::Hour
            | Func::Minute
            | Func::Second
            | Func::WindowTime
            | Func::AddInterval
            | Func::UnixSeconds
            | Func::UnixMillis
            | Func::UnixMicros
            | Func::UnixTimestamp
            | Func::FromUnixtime
            | Func::TimestampSeconds
            | Func::TimestampMillis
            | Func::TimestampMicros
            | Func::DayOfWeek
            | Func::WeekDay
            | Func::DayOfYear
            | Func::WeekOfYear
            | Func::Quarter
            | Func::SecondWithFraction => Family::DateTime,
            Func::IntDiv
            | Func::BitAnd
            | Func::BitOr
            | Func::BitXor
            | Func::BitNot
            | Func::ShiftLeft
            | Func::ShiftRight
            | Func::ShiftRightUnsigned
            | Func::BitCount => Family::Bitwise,
            Func::Replace
            | Func::Translate
            | Func::Initcap
            | Func::Lpad
            | Func::Rpad
            | Func::Repeat
            | Func::Reverse
            | Func::Left
            | Func::Right
            | Func::Instr
            | Func::Locate
            | Func::SplitPart
            | Func::Ascii
            | Func::Chr
            | Func::Soundex
            | Func::Levenshtein
            | Func::StartsWith
            | Func::EndsWith
            | Func::Contains
            | Func::Space
            | Func::SubstringIndex
            | Func::OctetLength
            | Func::BitLength
            | Func::FormatString
            | Func::FindInSet
            | Func::LuhnCheck => Family::Text,
            Func::RegexpLike
            | Func::RegexpReplace
            | Func::RegexpExtract
            | Func::RegexpExtractAll
            | Func::RegexpCount
            | Func::RegexpSubstr
            | Func::RegexpInstr => Family::Regex,
            Func::Md5 | Func::Sha1 | Func::Sha2 | Func::Crc32 => Family::Hash,
            Func::Greatest | Func::Least => Family::Conditional,
            Func::Abs | Func::Round | Func::Bround | Func::Floor | Func::Ceil | Func::Sqrt => Family::Math,
            f if f.is_collection() => Family::Collection,
            Func::ToDate
            | Func::DateAdd
            | Func::DateSub
            | Func::DateDiff
            | Func::AddMonths
            | Func::MonthsBetween
            | Func::LastDay
            | Func::NextDay
            | Func::TruncDate
            | Func::MakeDate
            | Func::MakeTimestamp
            | Func::TryMakeTimestamp
            | Func::TryToDate
            | Func::FromUtcTimestamp
            | Func::ToUtcTimestamp
            | Func::UnixDate
            | Func::DateFromUnixDate
            | Func::SequenceTime
            | Func::TimeBucket => Family::Dates,
            Func::FromJson
            | Func::ToJson
            | Func::GetJsonObject
            | Func::SchemaOfJson
            | Func::JsonTuple
            | Func::JsonArrayLength
            | Func::JsonObjectKeys => Family::Json,
            Func::FromCsv | Func::ToCsv | Func::SchemaOfCsv => Family::Csv,
            Func::AesDecrypt | Func::TryAesDecrypt => Family::Aes,
            Func::Hash => Family::Murmur,
            Func::XxHash64 => Family::XxHash,
            Func::ToChar | Func::ToNumber | Func::TryToNumber => Family::NumberFormat,
            Func::Base64 | Func::Unbase64 | Func::Unhex | Func::IsNan | Func::DayName | Func::MonthName => Family::Bytes,
            Func::UrlEncode | Func::UrlDecode | Func::TryUrlDecode | Func::ParseUrl | Func::TryParseUrl => Family::Url,
            Func::BinaryLength
            | Func::BinaryBitLength
            | Func::BinarySubstring
            | Func::BinaryLeft
            | Func::BinaryLpad
            | Func::BinaryRpad
            | Func::BinaryReverse
            | Func::BinaryContains
            | Func::BinaryStartsWith
            | Func::BinaryEndsWith
            | Func::BinaryConcat
            | Func::Overlay
            | Func::BinaryOverlay
            | Func::Encode
            | Func::Decode
            | Func::ToBinary
            | Func::TryToBinary
            | Func::ToBase32
            | Func::FromBase32
            | Func::IsValidUtf8
            | Func::MakeValidUtf8
            | Func::ValidateUtf8
            | Func::TryValidateUtf8 => Family::Encoding,
            Func::Elt
            | Func::Mask
            | Func::Quote
            | Func::Sentences
            | Func::JaroWinklerSimilarity
            | Func::Collation
            | Func::FormatNumber
            | Func::InstrFrom => Family::Words,
            Func::AssertTrue
            | Func::BitmapBitPosition
            | Func::BitmapBucketNumber
            | Func::BitmapCount
            | Func::Hmac
            | Func::Conv
            | Func::BitGet => Family::Misc,
            _ => Family::Numeric,
        }
    }

    pub fn evaluate(self, args: &[Columnar], data_type: &DataType, num_rows: usize) -> Result<Columnar> {
        let scalar = args.iter().all(Columnar::is_scalar);
        if !scalar && num_rows == 0 {
            // Kernels read literal arguments at row 0; an empty batch has none to read.
            return Ok(Columnar::Array(arrow_array::new_empty_array(&data_type.to_arrow())));
        }
        let len = if scalar { 1 } else { num_rows };
        let arrays = args.iter().map(|c| c.clone().into_array(len)).collect::<Result<Vec<_>>>()?;
        let out = self.kernel(&arrays, args, data_type, len)?;
        Ok(Columnar::wrap(out, scalar))
    }

    fn kernel(self, a: &[ArrayRef], raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
        match self.family() {
            Family::String => string::kernel(self, a, raw, data_type, len),
            Family::Array => array::kernel(self, a, raw, data_type, len),
            Family::Conditional => conditional::kernel(self, a, raw, data_type, len),
            Family::Math => math::kernel(self, a, raw, data_type, len),
            Family::DateTime => datetime::kernel(self, a, raw, data_type, len),
            Family::Bitwise => bitwise::kernel(self, a, raw, data_type, len),
            Family::Text => text::kernel(self, a, raw, data_type, len),
            Family::Regex => regex::kernel(self, a, raw, data_type, len),
            Family::Hash => hash::kernel(self, a, raw, data_type, len),
            Family::Numeric => numeric::kernel(self, a, raw, data_type, len),
            Family::Collection => collection::kernel(self, a, raw, data_type, len),
            Family::Dates => dates::kernel(self, a, raw, data_type, len),
            Family::Json => json::kernel(self, a, raw, data_type, len),
            Family::Csv => csv::kernel(self, a, raw, data_type, len),
            Family::Aes => aes::kernel(self, a, raw, data_type, len),
            Family::Url => url::kernel(self, a, raw, data_type, len),
            Family::Murmur => murmur::kernel(self, a, raw, data_type, len),
            Family::Bytes => bytes::kernel(self, a, raw, data_type, len),
            Family::Encoding => encoding::kernel(self, a, raw, data_type, len),
            Family::Words => words::kernel(self, a, raw, data_type, len),
            Family::Misc => misc::kernel(self, a, raw, data_type, len),
            Family::XxHash => xxhash::kernel(self, a, raw, data_type, len),
            Family::NumberFormat => number_format::kernel(self, a, raw, data_type, len),
        }
    }
}

impl Func {
    fn is_collection(self) -> bool {
        matches!(
            self,
            Func::MakeArray
                | Func::MakeMap
                | Func::NamedStruct
                | Func::MapValueAt
                | Func::MapSize
                | Func::ArraySize
                | Func::ArrayContains
                | Func::ArrayPosition
                | Func::ArrayRemove
                | Func::ArrayAppend
                | Func::ArrayPrepend
                | Func::MapKeys
                | Func::MapValues
                | Func::MapEntries
                | Func::MapContainsKey
                | Func::ArrayDistinct
                | Func::ArrayCompact
                | Func::ArrayReverse
                | Func::ArrayMax
                | Func::ArrayMin
                | Func::Flatten
                | Func::ArrayConcat
                | Func::ArrayUnion
                | Func::ArrayIntersect
                | Func::ArrayExcept
                | Func::ArraysOverlap
                | Func::Sequence
                | Func::Slice
                | Func::ArrayJoin
                | Func::ArraysZip
                | Func::MapFromArrays
                | Func::MapFromEntries
                | Func::MapConcat
                | Func::StrToMap
                | Func::ArrayRepeat
                | Func::Get
                | Func::ArrayInsert
        )
    }
}

/// Which file a function lives in.
enum Family {
    String,
    Array,
    Conditional,
    Math,
    DateTime,
    Bitwise,
    Text,
    Regex,
    Hash,
    Numeric,
    Collection,
    Dates,
    Json,
    Csv,
    Aes,
    Url,
    Murmur,
    Bytes,
    Encoding,
    Words,
    Misc,
    XxHash,
    NumberFormat,
}

/// What every function's argument check needs: its arity and Spark's implicit casts.
pub(super) struct Checks {
    func: Func,
    n: usize,
}

impl Checks {
    pub(super) fn arity(&self, min: usize, max: usize) -> Result<()> {
        let n = self.n;
        if n < min || n > max {
            let expected = if min == max { min.to_string() } else { format!("[{min}, {max}]") };
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {expected} parameters but the actual number is {n}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                self.func.name()
            )).with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
        }
        Ok(())
    }

    pub(super) fn to(&self, e: Expr, t: &DataType) -> Result<Expr> {
        coerce_arg(self.func, e, t)
    }

    pub(super) fn numeric(&self, e: Expr) -> Result<Expr> {
        if e.data_type().is_numeric() {
            Ok(e)
        } else {
            coerce_arg(self.func, e, &DataType::Double)
        }
    }
}

/// Row by row over [`Value`]s, for kernels not worth vectorising: `f` sees every argument's
/// value at the row, NULLs included, and gives the row's result.
pub(super) fn rowwise(a: &[ArrayRef], len: usize, data_type: &DataType, mut f: impl FnMut(&[Value]) -> Result<Value>) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(len);
    let mut row = Vec::with_capacity(a.len());
    for i in 0..len {
        row.clear();
        row.extend(a.iter().map(|c| Value::from_array(c.as_ref(), i)));
        out.push(f(&row)?);
    }
    Ok(crate::value::values_to_array(&out, data_type))
}

/// [`rowwise`] for a function that is NULL when any argument is.
pub(super) fn strict(a: &[ArrayRef], len: usize, data_type: &DataType, mut f: impl FnMut(&[Value]) -> Result<Value>) -> Result<ArrayRef> {
    rowwise(a, len, data_type, |row| if row.iter().any(Value::is_null) { Ok(Value::Null) } else { f(row) })
}

pub(super) fn str_of(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        _ => "",
    }
}

pub(super) fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i as i64,
        Value::BigInt(i) => *i,
        Value::Double(d) => *d as i64,
        _ => 0,
    }
}

pub(super) fn double_of(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::BigInt(i) => *i as f64,
        Value::Double(d) => *d,
        _ => 0.0,
    }
}

pub(super) fn coerce_arg(func: Func, e: Expr, to: &DataType) -> Result<Expr> {
    let from = e.data_type();
    if &from == to || from == DataType::Null {
        return Ok(e.cast_to(to));
    }
    let implicit = match (&from, to) {
        // Bytes are read as UTF-8 text where Spark has no BINARY form of a string function (`btrim(x'..')`).
        (f, DataType::String) => {
            f.is_numeric()
                || matches!(f, DataType::Boolean | DataType::Timestamp | DataType::Date | DataType::Binary | DataType::Decimal(..))
        }
        (DataType::String, t) => t.is_numeric() || matches!(t, DataType::Timestamp | DataType::Date),
        // A date is a timestamp at midnight to the timestamp functions, and back.
        (DataType::Date, DataType::Timestamp) | (DataType::Timestamp, DataType::Date) => true,
        (f, t) if f.is_numeric() && t.is_numeric() => true,
        // A decimal reads as the nearest double where a function takes one (Spark's implicit cast).
        (DataType::Decimal(..), DataType::Double) => true,
        // And as an integer, truncated, where a function takes one (`bin(13.3)` is `bin(13)`).
        (DataType::Decimal(..), DataType::Int | DataType::BigInt) => true,
        _ => false,
    };
    if !implicit {
        return Err(mismatch(func, &e, &to.spark_name()));
    }
    Ok(e.cast_to(to))
}

pub(super) fn mismatch(func: Func, arg: &Expr, expected: &str) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}(...)\" due to data type mismatch: the parameter requires the \"{expected}\" type, however it has the type \"{}\". SQLSTATE: 42K09",
        func.name(),
        arg.data_type().spark_name()
    ))
    .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
}

pub(super) fn arith_overflow(op: &str) -> Error {
    Error::runtime(
        "ARITHMETIC_OVERFLOW",
        format!("[ARITHMETIC_OVERFLOW] Overflow in {op}. Use a wider type (BIGINT, DOUBLE) to avoid it. SQLSTATE: 22003"),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampMicrosecondType;
    use arrow_array::Array;
    use chrono::NaiveDateTime;

    use crate::time::{from_micros, in_range, parse_timestamp, MICROS_PER_SECOND};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_callable_name_is_listed_and_resolves() {
        for (f, names) in MORE {
            for n in names.iter().filter(|n| callable(n)) {
                assert!(Func::all_names().any(|m| m == *n), "{n} is not in Func::all_names()");
                assert_eq!(Func::by_name(n), Some(*f), "{n}");
            }
        }
        for n in Func::all_names() {
            let known = Func::by_name(n).is_some()
                || super::super::HigherOrderFunc::by_name(n).is_some()
                || ["cast", "try_cast", "if", "nullif", "mod", "positive", "negative"].contains(&n)
                || REWRITTEN.contains(&n);
            assert!(known, "{n} is listed but does not resolve");
        }
    }

    #[test]
    fn functions_over_an_empty_batch_give_an_empty_column() {
        let empty: ArrayRef = Arc::new(arrow_array::Float64Array::from(Vec::<f64>::new()));
        let args = [Columnar::Array(empty), Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![2])))];
        let out = Func::Round.evaluate(&args, &DataType::Double, 0).unwrap();
        assert_eq!(out.array().len(), 0);
    }

    #[test]
    fn round_is_half_up_on_the_decimal_form() {
        assert_eq!(round_double(2.675, 2, false), 2.68);
        assert_eq!(round_double(1.005, 2, false), 1.01);
        assert_eq!(round_double(-2.5, 0, false), -3.0);
        assert_eq!(round_double(70.7, 2, false), 70.7);
        assert_eq!(round_double(9.995, 2, false), 10.0);
        assert_eq!(round_double(125.0, -1, false), 130.0);
        assert_eq!(round_double(0.004, 2, false), 0.0);
    }

    #[test]
    fn bround_is_half_even() {
        assert_eq!(round_double(2.5, 0, true), 2.0);
        assert_eq!(round_double(3.5, 0, true), 4.0);
        assert_eq!(round_double(2.675, 2, true), 2.68);
        assert_eq!(round_integer(25, -1, true).unwrap(), 20);
        assert_eq!(round_integer(25, -1, false).unwrap(), 30);
        assert_eq!(round_integer(-25, -1, false).unwrap(), -30);
    }

    #[test]
    fn substring_follows_spark() {
        assert_eq!(substring_sql("Spark SQL", 5, None), "k SQL");
        assert_eq!(substring_sql("Spark SQL", -3, None), "SQL");
        assert_eq!(substring_sql("Spark SQL", 5, Some(1)), "k");
        assert_eq!(substring_sql("Spark SQL", 0, Some(2)), "Sp");
        assert_eq!(substring_sql("Spark", -10, Some(7)), "Sp"); // end = start + len is taken before start is clamped
        assert_eq!(substring_sql("Spark", -10, Some(3)), "");
        assert_eq!(substring_sql("héllo", 2, Some(2)), "él");
    }

    #[test]
    fn spark_patterns_translate() {
        assert_eq!(spark_pattern_to_chrono("yyyy-MM-dd HH:mm:ss").unwrap(), "%Y-%m-%d %H:%M:%S");
        assert_eq!(spark_pattern_to_chrono("dd/MM/yyyy 'at' HH").unwrap(), "%d/%m/%Y at %H");
        assert!(spark_pattern_to_chrono("yyyy-qq").is_err());
        assert!(spark_pattern_to_chrono("yyyy-MM-dd HH:mm:ss XXX").is_err());
    }

    #[test]
    fn date_trunc_units() {
        let t = parse_timestamp("2026-05-17 13:45:12.5").unwrap();
        let f = |u| crate::time::format_timestamp(date_trunc(u, t).unwrap().unwrap());
        assert_eq!(f("hour"), "2026-05-17 13:00:00");
        assert_eq!(f("MINUTE"), "2026-05-17 13:45:00");
        assert_eq!(f("day"), "2026-05-17 00:00:00");
        assert_eq!(f("month"), "2026-05-01 00:00:00");
        assert_eq!(f("quarter"), "2026-04-01 00:00:00");
        assert_eq!(f("week"), "2026-05-11 00:00:00");
        assert_eq!(date_trunc("fortnight", t), Ok(None));
    }

    #[test]
    fn add_interval_handles_months_and_micros() {
        let t = parse_timestamp("2026-01-31 00:00:00").unwrap();
        assert_eq!(crate::time::format_timestamp(add_interval(t, 1, 0).unwrap()), "2026-02-28 00:00:00");
        assert_eq!(crate::time::format_timestamp(add_interval(t, 0, -MICROS_PER_SECOND).unwrap()), "2026-01-30 23:59:59");
    }

    #[test]
    fn a_scalar_pattern_compiles_once_and_keeps_trailing_empties() {
        let s: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![Some("a/b/"), None]));
        let p: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["/", "/"]));
        let raw = Columnar::Scalar(Arc::new(arrow_array::StringArray::from(vec!["/"])));
        let out = split(&s, &p, &raw).unwrap();
        assert_eq!(
            Value::from_array(out.as_ref(), 0),
            Value::Array(vec![Value::String("a".into()), Value::String("b".into()), Value::String("".into())])
        );
        assert_eq!(Value::from_array(out.as_ref(), 1), Value::Null);
    }
    /// Times at and past every edge: i64's, chrono's calendar's and Spark's TIMESTAMP range.
    fn extreme_times() -> Vec<i64> {
        use crate::time::{MAX_TIMESTAMP, MIN_TIMESTAMP};
        let chrono_min = NaiveDateTime::MIN.and_utc().timestamp_micros();
        let chrono_max = NaiveDateTime::MAX.and_utc().timestamp_micros();
        vec![
            i64::MIN,
            i64::MIN + 1,
            chrono_min - 1,
            chrono_min,
            chrono_min + 86_400 * MICROS_PER_SECOND,
            MIN_TIMESTAMP - 1,
            MIN_TIMESTAMP,
            -1,
            0,
            1,
            1_767_225_600_123_456,
            MAX_TIMESTAMP,
            MAX_TIMESTAMP + 1,
            chrono_max,
            chrono_max + 1,
            i64::MAX,
        ]
    }

    fn scalar_string(s: &str) -> Columnar {
        Columnar::Scalar(Arc::new(arrow_array::StringArray::from(vec![s])))
    }

    fn timestamps(times: &[i64]) -> Columnar {
        Columnar::Array(Arc::new(arrow_array::TimestampMicrosecondArray::from(times.to_vec())))
    }

    /// A call that may fail, but only with an error a user can act on.
    fn no_internal(what: &str, out: Result<Columnar>) -> Option<Columnar> {
        match out {
            Ok(c) => Some(c),
            Err(e) => {
                assert_ne!(e.kind, crate::error::ErrorKind::Internal, "{what}: {}", e.message);
                None
            }
        }
    }

    #[test]
    fn every_pattern_letter_at_every_extreme_time_formats_parses_or_refuses_by_name() {
        let times = extreme_times();
        let in_range_times: Vec<i64> = times.iter().copied().filter(|t| in_range(*t).is_some()).collect();
        let mut patterns: Vec<String> = Vec::new();
        for letter in ('A'..='Z').chain('a'..='z') {
            for n in 1..=6 {
                patterns.push(letter.to_string().repeat(n));
            }
        }
        patterns.extend(
            [
                "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
                "G yyyy QQQ MMMM EEEE a hh:mm",
                "[yyyy]'#'",
                "''''",
                "'",
                "yyyy-MM-dd HH:mm:ss ZZZZZ",
                "%Y %",
            ]
            .map(String::from),
        );
        for p in &patterns {
            let fmt = scalar_string(p);
            // Every time at once, then each alone so an error on one cannot hide a panic on another.
            no_internal(p, Func::DateFormat.evaluate(&[timestamps(&times), fmt.clone()], &DataType::String, times.len()));
            for t in &times {
                no_internal(p, Func::DateFormat.evaluate(&[timestamps(&[*t]), fmt.clone()], &DataType::String, 1));
            }
            // A pattern that compiles formats every time in range.
            if pattern::compile(p, false).is_ok() {
                let out = Func::DateFormat.evaluate(&[timestamps(&in_range_times), fmt.clone()], &DataType::String, in_range_times.len());
                assert!(out.is_ok(), "{p}: {:?}", out.err());
            }
            // Parsing: junk, the edges of the calendar, and this pattern's own output.
            let mut texts: Vec<String> = [
                "",
                "x",
                "0000-00-00",
                "9999-12-31 23:59:59",
                "0001-01-01 00:00:00",
                "+262143-01-01",
                "-0001-01-01",
                "99999999999999999999",
            ]
            .map(String::from)
            .to_vec();
            if let Ok(pieces) = pattern::compile(p, false) {
                texts.extend(in_range_times.iter().filter_map(|t| from_micros(*t)).map(|dt| pattern::format(&pieces, &dt)));
            }
            let text = Columnar::Array(Arc::new(arrow_array::StringArray::from(texts.clone())));
            for f in [Func::ToTimestamp, Func::TryToTimestamp] {
                if let Some(out) = no_internal(p, f.evaluate(&[text.clone(), fmt.clone()], &DataType::Timestamp, texts.len())) {
                    let parsed = out.array().as_primitive::<TimestampMicrosecondType>().clone();
                    assert!(parsed.iter().flatten().all(|t| in_range(t).is_some()), "{p}: a timestamp outside the range was parsed");
                }
            }
        }
    }

    #[test]
    fn datetime_functions_at_extreme_times_never_panic_and_never_leave_the_range() {
        let times = extreme_times();
        let units = [
            "year",
            "yyyy",
            "yy",
            "quarter",
            "month",
            "mm",
            "mon",
            "week",
            "day",
            "dd",
            "hour",
            "minute",
            "second",
            "millisecond",
            "microsecond",
            "fortnight",
            "",
        ];
        for t in &times {
            for unit in units {
                let what = format!("date_trunc('{unit}', {t})");
                let out = Func::DateTrunc.evaluate(&[scalar_string(unit), timestamps(&[*t])], &DataType::Timestamp, 1);
                if let Some(out) = no_internal(&what, out) {
                    let out = out.array().as_primitive::<TimestampMicrosecondType>().clone();
                    if in_range(*t).is_some() {
                        assert!(out.iter().flatten().all(|v| in_range(v).is_some()), "{what}");
                    }
                }
            }
            for f in [Func::Year, Func::Month, Func::DayOfMonth, Func::Hour, Func::Minute, Func::Second] {
                no_internal(f.name(), f.evaluate(&[timestamps(&[*t])], &DataType::Int, 1));
            }
            for months in [0, 1, -1, 12 * 9999, i32::MAX, i32::MIN] {
                for micros in [0, 1, -1, i64::MAX, i64::MIN, 86_400 * MICROS_PER_SECOND] {
                    let args = [
                        timestamps(&[*t]),
                        Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![months]))),
                        Columnar::Scalar(Arc::new(arrow_array::Int64Array::from(vec![micros]))),
                    ];
                    let what = format!("{t} + {months} months {micros} us");
                    match Func::AddInterval.evaluate(&args, &DataType::Timestamp, 1) {
                        Ok(out) => {
                            let v = out.array().as_primitive::<TimestampMicrosecondType>().value(0);
                            assert!(in_range(v).is_some(), "{what} = {v}");
                        }
                        Err(e) => assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"), "{what}: {}", e.message),
                    }
                }
            }
            let window = arrow_array::StructArray::new(
                crate::types::window_fields(),
                vec![
                    Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![*t])) as ArrayRef,
                    Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![*t])) as ArrayRef,
                ],
                None,
            );
            no_internal("window_time", Func::WindowTime.evaluate(&[Columnar::Array(Arc::new(window))], &DataType::Timestamp, 1));
        }
    }

    #[test]
    fn a_timestamp_plus_an_interval_past_9999_is_a_datetime_overflow() {
        let t = parse_timestamp("9999-12-31 00:00:00").unwrap();
        let args = [
            timestamps(&[t]),
            Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![0]))),
            Columnar::Scalar(Arc::new(arrow_array::Int64Array::from(vec![86_400 * MICROS_PER_SECOND]))),
        ];
        let e = Func::AddInterval.evaluate(&args, &DataType::Timestamp, 1).unwrap_err();
        assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"));
        assert!(e.message.contains("9999-12-31 00:00:00 + INTERVAL '1 day'"), "{}", e.message);
        assert_eq!(add_interval(t, 0, 86_400 * MICROS_PER_SECOND - 1), Some(crate::time::MAX_TIMESTAMP));
    }

    #[test]
    fn date_format_prints_zone_letters_for_utc() {
        let ts = timestamps(&[parse_timestamp("2026-05-17 13:45:12").unwrap()]);
        let out = Func::DateFormat.evaluate(&[ts, scalar_string("yyyy-MM-dd HH:mm:ssZ XXX xx")], &DataType::String, 1).unwrap();
        assert_eq!(Value::from_array(out.array().as_ref(), 0), Value::String("2026-05-17 13:45:12+0000 Z +0000".into()));
    }
}
