// Byte scanning for the JSON reader in ClaudeCode: finding the bytes that end a run of plain
// string content, unescaping string content, and checking UTF-8, 16 or 32 bytes at a time
// (SSE2, AVX2 when the CPU has it, NEON), with a portable scalar path elsewhere.
//
// Every function reads only inside the ranges it is given (the last partial block is scanned
// byte by byte or copied into a local padded block) and never writes outside `out`'s stated
// capacity.
#ifndef CCLAUDECODESCAN_H
#define CCLAUDECODESCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The index of the first byte in [start, end) that is a quote, a backslash or a control
/// character (< 0x20); `end` when there is none.
size_t ccscan_find_string_special(const uint8_t *base, size_t start, size_t end);

/// Like ccscan_find_string_special, also stopping at bytes >= 0x80.
size_t ccscan_find_string_special_or_non_ascii(const uint8_t *base, size_t start, size_t end);

/// What ccscan_skip_string and ccscan_unescape found.
enum {
    /// A closing quote, at `*position`.
    CCSCAN_QUOTE = 0,
    /// The end of the range, without a closing quote (`*position` is `end`).
    CCSCAN_END = 1,
    /// An unescaped control character at `*position`.
    CCSCAN_CONTROL = 2,
    /// A backslash at `*position` not followed by a valid escape character.
    CCSCAN_BAD_ESCAPE = 3,
    /// A `\u` at `*position` not followed by four hexadecimal digits.
    CCSCAN_BAD_UNICODE_ESCAPE = 4,
    /// A backslash at `*position` with nothing after it.
    CCSCAN_TRUNCATED_ESCAPE = 5,
};

/// Checks JSON string content from `index` (after the opening quote) up to its closing quote,
/// without decoding it: escapes are checked, control characters rejected, UTF-8 not looked at.
/// Returns a CCSCAN_ status and sets `*position`; `*escaped` is set to 1 when the content
/// holds a backslash escape (it is left alone otherwise).
int ccscan_skip_string(const uint8_t *base, size_t index, size_t end, size_t *position, int *escaped);

/// Decodes JSON string content from `index` up to its closing quote or `end`, appending the
/// decoded bytes at `out + *written` and advancing `*written`. Escapes are decoded (a lone or
/// unpaired surrogate escape becomes U+FFFD); other bytes, non-ASCII included, are copied as
/// they are. Returns a CCSCAN_ status and sets `*position` (the closing quote, the end, or the
/// problem).
///
/// `out` must have room for `(end - index) + *written` bytes: decoded text is never longer than
/// its escaped form.
int ccscan_unescape(
    const uint8_t *base, size_t index, size_t end, uint8_t *out, size_t *written, size_t *position);

/// What ccscan_check_utf8 found.
enum {
    CCSCAN_ASCII = 0,
    CCSCAN_WELL_FORMED = 1,
    CCSCAN_ILL_FORMED = 2,
};

/// Whether `count` bytes are ASCII, well-formed UTF-8 with non-ASCII characters, or not
/// well-formed (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF, no
/// truncated sequence at the end).
int ccscan_check_utf8(const uint8_t *bytes, size_t count);

/// The number of non-overlapping occurrences of `needle` (ASCII with no uppercase letter: a
/// folded search term) in `haystack` compared with its letters lowercased, found left to right;
/// -1 as soon as `haystack` holds a byte >= 0x80 (its folding is then more than lowercasing),
/// and -1 for an empty needle or one that is not lowercase ASCII. The first and last byte of
/// the needle are compared 16 or 32 bytes at a time (SSE2, AVX2), the rest only where both match.
ptrdiff_t ccscan_count_folded_ascii(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length);

/// Copies `src` to `dst` with A-Z lowercased, up to the first byte >= 0x80 or `count`; returns
/// the number of bytes copied. May write up to 31 bytes past the copied ones, but never past
/// `dst + count`.
size_t ccscan_lower_ascii(const uint8_t *src, size_t count, uint8_t *dst);

/// The index of the first occurrence of `needle` in `haystack` (bytes compared exactly), or -1
/// (also for an empty needle). The first and last byte are compared 16 or 32 bytes at a time.
ptrdiff_t ccscan_find(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length);

/// Like ccscan_find, with the two bytes compared many positions at a time chosen by the caller:
/// the needle's bytes at offsets `first` and `second` (both below `length`). Rare bytes make
/// fewer candidates: a JSON key's quotes are everywhere in JSON, its letters much less so.
ptrdiff_t ccscan_find_anchored(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length,
                               size_t first, size_t second);

/// Which implementation runs: 0 scalar, 1 SSE2, 2 AVX2, 3 NEON, 4 AVX2 with AVX-512 VBMI2
/// unescaping. For tests and benchmarks.
int ccscan_implementation(void);

/// Chooses an implementation (for the differential tests): 0 scalar, 1 SSE2, 2 AVX2, 3 NEON, 4 AVX-512;
/// one this CPU cannot run, or -1, chooses the best one it has. Returns the one now in use.
/// Calls made meanwhile on other threads may take either path, which is harmless: every path
/// gives the same results.
int ccscan_force_implementation(int level);

#ifdef __cplusplus
}
#endif

#endif
