#include "CClaudeCodeScan.h"

#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#define CCSCAN_X86 1
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define CCSCAN_NEON 1
#include <arm_neon.h>
#endif

// MARK: - Shared helpers

/// The byte a one-character escape stands for, by the character after the backslash; 0 for
/// `u` and anything that is not an escape.
static const uint8_t simple_escape[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = 0x08, ['f'] = 0x0C, ['n'] = 0x0A, ['r'] = 0x0D, ['t'] = 0x09,
};

static inline int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/// The value of the four hexadecimal digits at `index`, or -1.
static inline int32_t hex4(const uint8_t *base, size_t index, size_t end) {
    if (index > end || end - index < 4) return -1;
    int a = hex_value(base[index]), b = hex_value(base[index + 1]);
    int c = hex_value(base[index + 2]), d = hex_value(base[index + 3]);
    if ((a | b | c | d) < 0) return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

static inline size_t write_utf8(uint32_t scalar, uint8_t *out) {
    if (scalar < 0x80) {
        out[0] = (uint8_t)scalar;
        return 1;
    }
    if (scalar < 0x800) {
        out[0] = (uint8_t)(0xC0 | (scalar >> 6));
        out[1] = (uint8_t)(0x80 | (scalar & 0x3F));
        return 2;
    }
    if (scalar < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (scalar >> 12));
        out[1] = (uint8_t)(0x80 | ((scalar >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (scalar & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (scalar >> 18));
    out[1] = (uint8_t)(0x80 | ((scalar >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((scalar >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (scalar & 0x3F));
    return 4;
}

static inline uint64_t load64(const uint8_t *p) {
    uint64_t word;
    memcpy(&word, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    return word;
}

// MARK: - Portable path: eight bytes at a time in a 64-bit word

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/// Flags quotes, backslashes and control bytes; the lowest flag is exact (borrows only cause
/// false flags above the first real one).
static inline uint64_t swar_special(uint64_t word) {
    uint64_t quotes = word ^ (ONES * 0x22);
    uint64_t slashes = word ^ (ONES * 0x5C);
    return (((quotes - ONES) & ~quotes) | ((slashes - ONES) & ~slashes) | ((word - ONES * 0x20) & ~word)) & HIGHS;
}

static inline unsigned scalar_first(const uint8_t *p) {
    uint64_t hit = swar_special(load64(p));
    return hit ? (unsigned)(__builtin_ctzll(hit) >> 3) : 8;
}

static inline unsigned scalar_first_na(const uint8_t *p) {
    uint64_t word = load64(p);
    uint64_t hit = swar_special(word) | (word & HIGHS);
    return hit ? (unsigned)(__builtin_ctzll(hit) >> 3) : 8;
}

static inline unsigned scalar_copy_first(const uint8_t *p, uint8_t *out) {
    memcpy(out, p, 8);
    return scalar_first(p);
}

#define SCAN_SUFFIX _scalar
#define SCAN_ATTR
#define SCAN_BLOCK 8
#define SCAN_FIRST(p) scalar_first(p)
#define SCAN_FIRST_NA(p) scalar_first_na(p)
#define SCAN_COPY_FIRST(p, out) scalar_copy_first(p, out)
#include "scan_body.h"
#undef SCAN_SUFFIX
#undef SCAN_ATTR
#undef SCAN_BLOCK
#undef SCAN_FIRST
#undef SCAN_FIRST_NA
#undef SCAN_COPY_FIRST

/// The length of the well-formed sequence whose lead byte (>= 0x80) is at `i`, or 0.
static inline size_t utf8_sequence_length(const uint8_t *p, size_t i, size_t end) {
    uint8_t lead = p[i];
    if (lead < 0xE0) {
        if (lead < 0xC2 || end - i < 2 || (p[i + 1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (lead < 0xF0) {
        if (end - i < 3) return 0;
        uint8_t second = p[i + 1];
        if ((second & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80) return 0;
        if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)) return 0;
        return 3;
    }
    if (lead > 0xF4 || end - i < 4) return 0;
    uint8_t second = p[i + 1];
    if ((second & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80 || (p[i + 3] & 0xC0) != 0x80) return 0;
    if ((lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F)) return 0;
    return 4;
}

static int check_utf8_scalar(const uint8_t *p, size_t n) {
    size_t i = 0;
    int result = CCSCAN_ASCII;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t high = load64(p + i) & HIGHS;
            if (high == 0) {
                i += 8;
                continue;
            }
            i += (size_t)(__builtin_ctzll(high) >> 3);
        } else if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t length = utf8_sequence_length(p, i, n);
        if (length == 0) return CCSCAN_ILL_FORMED;
        result = CCSCAN_WELL_FORMED;
        i += length;
    }
    return result;
}

// MARK: - 64-byte windows (SIMD paths)

/// Bit k describes byte k of a 64-byte window.
struct scan_window {
    uint64_t backslash, quote, control;
    /// Bytes that may follow a backslash as a one-character escape (`"\\/bfnrt`).
    uint64_t simple;
};

/// The bytes escaped by a backslash, from the window's backslashes: in a run of backslashes
/// every second one escapes the next byte. `carry` is 1 when the window's first byte is escaped
/// (by the previous window's last backslash), and is updated for the next window. From simdjson
/// (Langdale and Lemire, "Parsing Gigabytes of JSON per Second", 2019).
static inline uint64_t find_escaped(uint64_t backslash, uint64_t *carry) {
    backslash &= ~*carry;
    uint64_t follows_escape = (backslash << 1) | *carry;
    const uint64_t even_bits = 0x5555555555555555ULL;
    uint64_t odd_sequence_starts = backslash & ~even_bits & ~follows_escape;
    uint64_t sequences_starting_on_even_bits;
    *carry = __builtin_add_overflow(odd_sequence_starts, backslash, &sequences_starting_on_even_bits);
    uint64_t invert_mask = sequences_starting_on_even_bits << 1;
    return (even_bits ^ invert_mask) & follows_escape;
}

#if CCSCAN_X86 || CCSCAN_NEON
/// One bit per escape character, set by its low nibble here and its high nibble below: a byte
/// is one of `"\\/bfnrt` when the two entries share a bit.
static const uint8_t simple_escape_low[16] = {
    0, 0, 0x49, 0, 0x80, 0, 0x10, 0, 0, 0, 0, 0, 0x02, 0, 0x20, 0x04};
static const uint8_t simple_escape_high[16] = {0, 0, 0x05, 0, 0, 0x02, 0x38, 0xC0, 0, 0, 0, 0, 0, 0, 0, 0};
#endif

// MARK: - UTF-8 validation tables (SIMD paths)

#if CCSCAN_X86 || CCSCAN_NEON
// UTF-8 validation after Keiser and Lemire, "Validating UTF-8 In Less Than One Instruction Per
// Byte" (2021): three nibble lookups flag every two-byte error pattern, and the bytes that must
// be the third or fourth of a sequence are checked against the continuation bytes found.
#define TOO_SHORT (1 << 0)
#define TOO_LONG (1 << 1)
#define OVERLONG_3 (1 << 2)
#define TOO_LARGE (1 << 3)
#define SURROGATE (1 << 4)
#define OVERLONG_2 (1 << 5)
#define TOO_LARGE_1000 (1 << 6)
#define OVERLONG_4 (1 << 6)
#define TWO_CONTS (1 << 7)
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

/// By the high nibble of the first byte of each pair.
static const uint8_t byte_1_high_table[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};
/// By the low nibble of the first byte.
static const uint8_t byte_1_low_table[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY, CARRY | TOO_LARGE,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000};
/// By the high nibble of the second byte.
static const uint8_t byte_2_high_table[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT};
/// A lead byte in the last three positions of a block that needs more bytes than the block has left.
static const uint8_t incomplete_limits_table[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};
#endif

// MARK: - x86_64: SSE2 (always there) and AVX2 (when the CPU has it)

#if CCSCAN_X86

static inline unsigned sse2_mask(__m128i v, int non_ascii) {
    __m128i quotes = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    __m128i slashes = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    // Signed: below 0x20 or at least 0x80. Unsigned (max(v, 0x1F) == 0x1F): below 0x20 only.
    __m128i low = non_ascii ? _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))
                            : _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quotes, slashes), low));
}

static inline unsigned sse2_first(const uint8_t *p) {
    return (unsigned)__builtin_ctz(sse2_mask(_mm_loadu_si128((const __m128i *)p), 0) | 0x10000u);
}

static inline unsigned sse2_first_na(const uint8_t *p) {
    return (unsigned)__builtin_ctz(sse2_mask(_mm_loadu_si128((const __m128i *)p), 1) | 0x10000u);
}

static inline unsigned sse2_copy_first(const uint8_t *p, uint8_t *out) {
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    _mm_storeu_si128((__m128i *)out, v);
    return (unsigned)__builtin_ctz(sse2_mask(v, 0) | 0x10000u);
}

#define SCAN_SUFFIX _sse2
#define SCAN_ATTR
#define SCAN_BLOCK 16
#define SCAN_FIRST(p) sse2_first(p)
#define SCAN_FIRST_NA(p) sse2_first_na(p)
#define SCAN_COPY_FIRST(p, out) sse2_copy_first(p, out)
#include "scan_body.h"
#undef SCAN_SUFFIX
#undef SCAN_ATTR
#undef SCAN_BLOCK
#undef SCAN_FIRST
#undef SCAN_FIRST_NA
#undef SCAN_COPY_FIRST

#define AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))

AVX2 static inline uint64_t avx2_mask(__m256i v, int non_ascii) {
    __m256i quotes = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'));
    __m256i slashes = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'));
    __m256i low = non_ascii
        ? _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v)
        : _mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8(0x1F)), _mm256_set1_epi8(0x1F));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(quotes, slashes), low));
}

AVX2 static inline unsigned avx2_first(const uint8_t *p) {
    return (unsigned)__builtin_ctzll(avx2_mask(_mm256_loadu_si256((const __m256i *)p), 0) | (1ULL << 32));
}

AVX2 static inline unsigned avx2_first_na(const uint8_t *p) {
    return (unsigned)__builtin_ctzll(avx2_mask(_mm256_loadu_si256((const __m256i *)p), 1) | (1ULL << 32));
}

AVX2 static inline unsigned avx2_copy_first(const uint8_t *p, uint8_t *out) {
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    _mm256_storeu_si256((__m256i *)out, v);
    return (unsigned)__builtin_ctzll(avx2_mask(v, 0) | (1ULL << 32));
}

AVX2 static inline uint64_t avx2_bits(__m256i low, __m256i high) {
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(low) | ((uint64_t)(uint32_t)_mm256_movemask_epi8(high) << 32);
}

AVX2 static inline __m256i avx2_simple(__m256i v) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i low_table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)simple_escape_low));
    const __m256i high_table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)simple_escape_high));
    __m256i low = _mm256_shuffle_epi8(low_table, _mm256_and_si256(v, nibble));
    __m256i high = _mm256_shuffle_epi8(high_table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    return _mm256_cmpeq_epi8(_mm256_and_si256(low, high), _mm256_setzero_si256());
}

AVX2 static inline void avx2_copy64(uint8_t *dst, const uint8_t *src) {
    __m256i a = _mm256_loadu_si256((const __m256i *)src);
    __m256i b = _mm256_loadu_si256((const __m256i *)(src + 32));
    _mm256_storeu_si256((__m256i *)dst, a);
    _mm256_storeu_si256((__m256i *)(dst + 32), b);
}

AVX2 static inline void avx2_window(const uint8_t *p, struct scan_window *m) {
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));
    const __m256i quote = _mm256_set1_epi8('"'), slash = _mm256_set1_epi8('\\'), c1f = _mm256_set1_epi8(0x1F);
    m->backslash = avx2_bits(_mm256_cmpeq_epi8(a, slash), _mm256_cmpeq_epi8(b, slash));
    m->quote = avx2_bits(_mm256_cmpeq_epi8(a, quote), _mm256_cmpeq_epi8(b, quote));
    m->control = avx2_bits(
        _mm256_cmpeq_epi8(_mm256_max_epu8(a, c1f), c1f), _mm256_cmpeq_epi8(_mm256_max_epu8(b, c1f), c1f));
    m->simple = ~avx2_bits(avx2_simple(a), avx2_simple(b));
}

#define SCAN_SUFFIX _avx2
#define SCAN_ATTR AVX2
#define SCAN_BLOCK 32
#define SCAN_FIRST(p) avx2_first(p)
#define SCAN_FIRST_NA(p) avx2_first_na(p)
#define SCAN_COPY_FIRST(p, out) avx2_copy_first(p, out)
#define SCAN_WINDOW(p, m) avx2_window(p, m)
#define SCAN_COPY64(dst, src) avx2_copy64(dst, src)
#include "scan_body.h"
#undef SCAN_WINDOW
#undef SCAN_COPY64
#undef SCAN_SUFFIX
#undef SCAN_ATTR
#undef SCAN_BLOCK
#undef SCAN_FIRST
#undef SCAN_FIRST_NA
#undef SCAN_COPY_FIRST

AVX2 static inline __m256i avx2_prev(__m256i input, __m256i previous, int n) {
    __m256i joined = _mm256_permute2x128_si256(previous, input, 0x21);
    switch (n) {
    case 1: return _mm256_alignr_epi8(input, joined, 15);
    case 2: return _mm256_alignr_epi8(input, joined, 14);
    default: return _mm256_alignr_epi8(input, joined, 13);
    }
}

AVX2 static int check_utf8_avx2(const uint8_t *p, size_t n) {
    const __m256i table_1_high = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_1_high_table));
    const __m256i table_1_low = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_1_low_table));
    const __m256i table_2_high = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)byte_2_high_table));
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i incomplete_limits = _mm256_loadu_si256((const __m256i *)incomplete_limits_table);
    __m256i error = _mm256_setzero_si256();
    __m256i previous = _mm256_setzero_si256();
    __m256i previous_incomplete = _mm256_setzero_si256();
    __m256i high = _mm256_setzero_si256();
    size_t i = 0;
    uint8_t tail[32];
    while (i < n) {
        __m256i input;
        if (n - i >= 32) {
            input = _mm256_loadu_si256((const __m256i *)(p + i));
        } else {
            // Zero padding: a sequence cut short by the end then meets an ASCII byte.
            memset(tail, 0, sizeof tail);
            memcpy(tail, p + i, n - i);
            input = _mm256_loadu_si256((const __m256i *)tail);
        }
        i += 32;
        // No branch on ASCII blocks: in text with a non-ASCII character every hundred bytes or
        // so it would be mispredicted about as often as taken.
        high = _mm256_or_si256(high, input);
        __m256i prev1 = avx2_prev(input, previous, 1);
        __m256i byte_1_high = _mm256_shuffle_epi8(table_1_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble));
        __m256i byte_1_low = _mm256_shuffle_epi8(table_1_low, _mm256_and_si256(prev1, nibble));
        __m256i byte_2_high = _mm256_shuffle_epi8(table_2_high, _mm256_and_si256(_mm256_srli_epi16(input, 4), nibble));
        __m256i special = _mm256_and_si256(_mm256_and_si256(byte_1_high, byte_1_low), byte_2_high);
        __m256i prev2 = avx2_prev(input, previous, 2);
        __m256i prev3 = avx2_prev(input, previous, 3);
        __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
        __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
        __m256i must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
        error = _mm256_or_si256(error, _mm256_xor_si256(must_continue, special));
        previous_incomplete = _mm256_subs_epu8(input, incomplete_limits);
        previous = input;
    }
    error = _mm256_or_si256(error, previous_incomplete);
    if (!_mm256_testz_si256(error, error)) return CCSCAN_ILL_FORMED;
    return _mm256_movemask_epi8(high) ? CCSCAN_WELL_FORMED : CCSCAN_ASCII;
}


// MARK: x86_64 with AVX-512 VBMI2: unescaping without a branch per escape

#define AVX512 __attribute__((target("avx2,bmi,bmi2,popcnt,avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2")))

/// Decoded one-character escapes by the escape character's low seven bits, for vpermi2b.
static const uint8_t escape_values_128[128] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = 0x08, ['f'] = 0x0C, ['n'] = 0x0A, ['r'] = 0x0D, ['t'] = 0x09,
};

AVX512 static inline void avx512_window(const uint8_t *p, struct scan_window *m, __m512i *bytes) {
    __m512i v = _mm512_loadu_si512((const void *)p);
    *bytes = v;
    m->backslash = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
    m->quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
    m->control = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1F));
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i low_table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)simple_escape_low));
    const __m512i high_table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)simple_escape_high));
    __m512i low = _mm512_shuffle_epi8(low_table, _mm512_and_si512(v, nibble));
    __m512i high = _mm512_shuffle_epi8(high_table, _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble));
    m->simple = _mm512_test_epi8_mask(low, high);
}

/// ccscan_skip_string with AVX-512 masks (as skip_string_windows_avx2, one load per window).
AVX512 static int skip_string_avx512(const uint8_t *base, size_t i, size_t end, size_t *position, int *escaped) {
    uint64_t carry = 0;
    int any = 0;
    while (i <= end && end - i >= 64) {
        struct scan_window m;
        __m512i v;
        avx512_window(base + i, &m, &v);
        uint64_t carried = carry;
        uint64_t escaped_bits = find_escaped(m.backslash, &carry);
        uint64_t stop = (m.quote & ~escaped_bits) | m.control;
        uint64_t first = stop & (0 - stop);
        uint64_t escapes = escaped_bits & (first - 1);
        if ((escapes & ~m.simple) | (first & m.control)) {
            if (any) *escaped = 1;
            return skip_string_avx2(base, i - carried, end, position, escaped);
        }
        any |= escapes != 0;
        if (first) {
            if (any) *escaped = 1;
            *position = i + (size_t)__builtin_ctzll(first);
            return CCSCAN_QUOTE;
        }
        i += 64;
    }
    if (any) *escaped = 1;
    return skip_string_avx2(base, i - carry, end, position, escaped);
}

/// ccscan_check_utf8 64 bytes at a time (check_utf8_avx2's algorithm; the previous bytes are
/// brought in across lanes with vpermi2b).
AVX512 static int check_utf8_avx512(const uint8_t *p, size_t n) {
    const __m512i table_1_high = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_1_high_table));
    const __m512i table_1_low = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_1_low_table));
    const __m512i table_2_high = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)byte_2_high_table));
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    uint8_t limits[64];
    memset(limits, 0xFF, sizeof limits);
    limits[61] = 0xF0 - 1;
    limits[62] = 0xE0 - 1;
    limits[63] = 0xC0 - 1;
    const __m512i incomplete_limits = _mm512_loadu_si512((const void *)limits);
    uint8_t shift_indices[3][64];
    for (int n_back = 1; n_back <= 3; n_back++) {
        for (int j = 0; j < 64; j++) shift_indices[n_back - 1][j] = (uint8_t)(64 - n_back + j);
    }
    const __m512i shift1 = _mm512_loadu_si512((const void *)shift_indices[0]);
    const __m512i shift2 = _mm512_loadu_si512((const void *)shift_indices[1]);
    const __m512i shift3 = _mm512_loadu_si512((const void *)shift_indices[2]);
    __m512i error = _mm512_setzero_si512();
    __m512i previous = _mm512_setzero_si512();
    __m512i previous_incomplete = _mm512_setzero_si512();
    __m512i high = _mm512_setzero_si512();
    size_t i = 0;
    uint8_t tail[64];
    while (i < n) {
        __m512i input;
        if (n - i >= 64) {
            input = _mm512_loadu_si512((const void *)(p + i));
        } else {
            memset(tail, 0, sizeof tail);
            memcpy(tail, p + i, n - i);
            input = _mm512_loadu_si512((const void *)tail);
        }
        i += 64;
        high = _mm512_or_si512(high, input);
        __m512i prev1 = _mm512_permutex2var_epi8(previous, shift1, input);
        __m512i byte_1_high = _mm512_shuffle_epi8(table_1_high, _mm512_and_si512(_mm512_srli_epi16(prev1, 4), nibble));
        __m512i byte_1_low = _mm512_shuffle_epi8(table_1_low, _mm512_and_si512(prev1, nibble));
        __m512i byte_2_high = _mm512_shuffle_epi8(table_2_high, _mm512_and_si512(_mm512_srli_epi16(input, 4), nibble));
        __m512i special = _mm512_and_si512(_mm512_and_si512(byte_1_high, byte_1_low), byte_2_high);
        __m512i prev2 = _mm512_permutex2var_epi8(previous, shift2, input);
        __m512i prev3 = _mm512_permutex2var_epi8(previous, shift3, input);
        __m512i third = _mm512_subs_epu8(prev2, _mm512_set1_epi8((char)(0xE0 - 0x80)));
        __m512i fourth = _mm512_subs_epu8(prev3, _mm512_set1_epi8((char)(0xF0 - 0x80)));
        __m512i must_continue = _mm512_and_si512(_mm512_or_si512(third, fourth), _mm512_set1_epi8((char)0x80));
        error = _mm512_or_si512(error, _mm512_xor_si512(must_continue, special));
        previous_incomplete = _mm512_subs_epu8(input, incomplete_limits);
        previous = input;
    }
    error = _mm512_or_si512(error, previous_incomplete);
    if (_mm512_test_epi8_mask(error, error)) return CCSCAN_ILL_FORMED;
    return _mm512_movepi8_mask(high) ? CCSCAN_WELL_FORMED : CCSCAN_ASCII;
}

/// ccscan_unescape with AVX-512 VBMI2: per 64-byte window, the escape characters are replaced
/// by their values (vpermi2b) and the escaping backslashes dropped by one compress (vpcompressb),
/// so a window costs the same whatever number of escapes it holds. The next window always starts
/// 64 bytes on, so its load does not wait for this window's masks (the backslash that escapes
/// the next window's first byte is dropped here, its escape decoded there: `carry`); that made
/// the loop half as fast again with clang. Windows with anything else and the last 128 bytes go
/// to the AVX2 path, which ends the string exactly (from the carried backslash, if any).
AVX512 static int unescape_avx512(
    const uint8_t *base, size_t r, size_t end, uint8_t *out, size_t *written, size_t *position) {
    const __m512i values_low = _mm512_loadu_si512((const void *)escape_values_128);
    const __m512i values_high = _mm512_loadu_si512((const void *)(escape_values_128 + 64));
    size_t w = *written;
    uint64_t carry = 0;
    while (r <= end && end - r >= 128) {
        struct scan_window m;
        __m512i v;
        avx512_window(base + r, &m, &v);
        uint64_t carried = carry;
        uint64_t escaped_bits = find_escaped(m.backslash, &carry);
        uint64_t stop = (m.quote & ~escaped_bits) | m.control;
        uint64_t first = stop & (0 - stop);
        uint64_t escapes = escaped_bits & (first - 1);
        if ((escapes & ~m.simple) | (first & m.control)) {
            *written = w;
            return unescape_avx2(base, r - carried, end, out, written, position);
        }
        // Up to the closing quote; without one, all but a last backslash that escapes the next
        // window's first byte.
        uint64_t inside = first ? first - 1 : ~(carry << 63);
        __m512i decoded = _mm512_permutex2var_epi8(values_low, v, values_high);
        __m512i replaced = _mm512_mask_mov_epi8(v, escapes, decoded);
        uint64_t keep = inside & ~(escapes >> 1);
        _mm512_storeu_si512((void *)(out + w), _mm512_maskz_compress_epi8(keep, replaced));
        w += (size_t)__builtin_popcountll(keep);
        if (first) {
            *written = w;
            *position = r + (size_t)__builtin_ctzll(first);
            return CCSCAN_QUOTE;
        }
        r += 64;
    }
    *written = w;
    return unescape_avx2(base, r - carry, end, out, written, position);
}

static int detect_level(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 1;
    // AVX needs the OS to save the YMM registers (OSXSAVE, then XCR0 bits 1 and 2).
    if (!(ecx & (1u << 27)) || !(ecx & (1u << 28))) return 1;
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 6) != 6) return 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 1;
    // AVX2 (bit 5), BMI1 (bit 3), BMI2 (bit 8).
    if (!(ebx & (1u << 5)) || !(ebx & (1u << 3)) || !(ebx & (1u << 8))) return 1;
    // AVX-512 F (ebx bit 16), BW (bit 30), VL (bit 31), VBMI (ecx bit 1), VBMI2 (ecx bit 6), with
    // the OS saving the opmask and ZMM registers (XCR0 bits 5 to 7).
    if ((ebx & (1u << 16)) && (ebx & (1u << 30)) && (ebx & (1u << 31)) && (ecx & (1u << 1)) && (ecx & (1u << 6))
        && (xcr0_low & 0xE0) == 0xE0)
        return 4;
    return 2;
}

#endif  // CCSCAN_X86

// MARK: - arm64: NEON

#if CCSCAN_NEON

static inline uint64_t neon_bits(uint8x16_t mask) {
    // Four bits per byte (a narrowing shift): the first flagged byte is ctz / 4.
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(mask), 4)), 0);
}

static inline uint8x16_t neon_mask(uint8x16_t v, int non_ascii) {
    uint8x16_t m = vorrq_u8(vceqq_u8(v, vdupq_n_u8('"')), vceqq_u8(v, vdupq_n_u8('\\')));
    m = vorrq_u8(m, vcltq_u8(v, vdupq_n_u8(0x20)));
    if (non_ascii) m = vorrq_u8(m, vcgeq_u8(v, vdupq_n_u8(0x80)));
    return m;
}

static inline unsigned neon_first(const uint8_t *p) {
    uint64_t bits = neon_bits(neon_mask(vld1q_u8(p), 0));
    return bits ? (unsigned)(__builtin_ctzll(bits) >> 2) : 16;
}

static inline unsigned neon_first_na(const uint8_t *p) {
    uint64_t bits = neon_bits(neon_mask(vld1q_u8(p), 1));
    return bits ? (unsigned)(__builtin_ctzll(bits) >> 2) : 16;
}

static inline unsigned neon_copy_first(const uint8_t *p, uint8_t *out) {
    uint8x16_t v = vld1q_u8(p);
    vst1q_u8(out, v);
    uint64_t bits = neon_bits(neon_mask(v, 0));
    return bits ? (unsigned)(__builtin_ctzll(bits) >> 2) : 16;
}

static inline uint64_t neon_bits64(uint8x16_t a, uint8x16_t b, uint8x16_t c, uint8x16_t d) {
    const uint8x16_t weights = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t sum = vpaddq_u8(
        vpaddq_u8(vandq_u8(a, weights), vandq_u8(b, weights)), vpaddq_u8(vandq_u8(c, weights), vandq_u8(d, weights)));
    sum = vpaddq_u8(sum, sum);
    return vgetq_lane_u64(vreinterpretq_u64_u8(sum), 0);
}

static inline uint8x16_t neon_simple(uint8x16_t v) {
    uint8x16_t low = vqtbl1q_u8(vld1q_u8(simple_escape_low), vandq_u8(v, vdupq_n_u8(0x0F)));
    uint8x16_t high = vqtbl1q_u8(vld1q_u8(simple_escape_high), vshrq_n_u8(v, 4));
    return vtstq_u8(low, high);
}

static inline void neon_copy64(uint8_t *dst, const uint8_t *src) {
    uint8x16_t a = vld1q_u8(src), b = vld1q_u8(src + 16), c = vld1q_u8(src + 32), d = vld1q_u8(src + 48);
    vst1q_u8(dst, a);
    vst1q_u8(dst + 16, b);
    vst1q_u8(dst + 32, c);
    vst1q_u8(dst + 48, d);
}

static inline void neon_window(const uint8_t *p, struct scan_window *m) {
    uint8x16_t a = vld1q_u8(p), b = vld1q_u8(p + 16), c = vld1q_u8(p + 32), d = vld1q_u8(p + 48);
    const uint8x16_t quote = vdupq_n_u8('"'), slash = vdupq_n_u8('\\'), space = vdupq_n_u8(0x20);
    m->backslash = neon_bits64(vceqq_u8(a, slash), vceqq_u8(b, slash), vceqq_u8(c, slash), vceqq_u8(d, slash));
    m->quote = neon_bits64(vceqq_u8(a, quote), vceqq_u8(b, quote), vceqq_u8(c, quote), vceqq_u8(d, quote));
    m->control = neon_bits64(vcltq_u8(a, space), vcltq_u8(b, space), vcltq_u8(c, space), vcltq_u8(d, space));
    m->simple = neon_bits64(neon_simple(a), neon_simple(b), neon_simple(c), neon_simple(d));
}

#define SCAN_SUFFIX _neon
#define SCAN_ATTR
#define SCAN_BLOCK 16
#define SCAN_FIRST(p) neon_first(p)
#define SCAN_FIRST_NA(p) neon_first_na(p)
#define SCAN_COPY_FIRST(p, out) neon_copy_first(p, out)
#define SCAN_WINDOW(p, m) neon_window(p, m)
#define SCAN_COPY64(dst, src) neon_copy64(dst, src)
#include "scan_body.h"
#undef SCAN_WINDOW
#undef SCAN_COPY64
#undef SCAN_SUFFIX
#undef SCAN_ATTR
#undef SCAN_BLOCK
#undef SCAN_FIRST
#undef SCAN_FIRST_NA
#undef SCAN_COPY_FIRST

static int check_utf8_neon(const uint8_t *p, size_t n) {
    const uint8x16_t table_1_high = vld1q_u8(byte_1_high_table);
    const uint8x16_t table_1_low = vld1q_u8(byte_1_low_table);
    const uint8x16_t table_2_high = vld1q_u8(byte_2_high_table);
    const uint8x16_t incomplete_limits = vld1q_u8(incomplete_limits_table + 16);
    uint8x16_t error = vdupq_n_u8(0), previous = vdupq_n_u8(0), previous_incomplete = vdupq_n_u8(0);
    int non_ascii = 0;
    size_t i = 0;
    uint8_t tail[16];
    while (i < n) {
        uint8x16_t input;
        if (n - i >= 16) {
            input = vld1q_u8(p + i);
        } else {
            memset(tail, 0, sizeof tail);
            memcpy(tail, p + i, n - i);
            input = vld1q_u8(tail);
        }
        i += 16;
        if (vmaxvq_u8(input) < 0x80) {
            error = vorrq_u8(error, previous_incomplete);
            previous_incomplete = vdupq_n_u8(0);
            previous = input;
            continue;
        }
        non_ascii = 1;
        uint8x16_t prev1 = vextq_u8(previous, input, 15);
        uint8x16_t special = vandq_u8(
            vandq_u8(vqtbl1q_u8(table_1_high, vshrq_n_u8(prev1, 4)),
                     vqtbl1q_u8(table_1_low, vandq_u8(prev1, vdupq_n_u8(0x0F)))),
            vqtbl1q_u8(table_2_high, vshrq_n_u8(input, 4)));
        uint8x16_t prev2 = vextq_u8(previous, input, 14);
        uint8x16_t prev3 = vextq_u8(previous, input, 13);
        uint8x16_t third = vqsubq_u8(prev2, vdupq_n_u8(0xE0 - 0x80));
        uint8x16_t fourth = vqsubq_u8(prev3, vdupq_n_u8(0xF0 - 0x80));
        uint8x16_t must_continue = vandq_u8(vorrq_u8(third, fourth), vdupq_n_u8(0x80));
        error = vorrq_u8(error, veorq_u8(must_continue, special));
        previous_incomplete = vqsubq_u8(input, incomplete_limits);
        previous = input;
    }
    error = vorrq_u8(error, previous_incomplete);
    if (vmaxvq_u8(error) != 0) return CCSCAN_ILL_FORMED;
    return non_ascii ? CCSCAN_WELL_FORMED : CCSCAN_ASCII;
}

static int detect_level(void) { return 3; }

#endif  // CCSCAN_NEON

#if !CCSCAN_X86 && !CCSCAN_NEON
static int detect_level(void) { return 0; }
#endif

// MARK: - Dispatch

static int chosen_level = -1;

static inline int level(void) {
    int current = __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
    if (current < 0) {
        current = detect_level();
        __atomic_store_n(&chosen_level, current, __ATOMIC_RELAXED);
    }
    return current;
}

int ccscan_implementation(void) { return level(); }

int ccscan_force_implementation(int requested) {
    int best = detect_level();
    int chosen = best;
#if CCSCAN_X86
    if (requested == 0 || requested == 1 || (requested == 2 && best >= 2) || (requested == 4 && best == 4))
        chosen = requested;
#else
    if (requested == 0) chosen = 0;
#endif
    __atomic_store_n(&chosen_level, chosen, __ATOMIC_RELAXED);
    return chosen;
}

size_t ccscan_find_string_special(const uint8_t *base, size_t start, size_t end) {
    switch (level()) {
#if CCSCAN_X86
    case 4:
    case 2: return find_special_avx2(base, start, end);
    case 1: return find_special_sse2(base, start, end);
#elif CCSCAN_NEON
    case 3: return find_special_neon(base, start, end);
#endif
    default: return find_special_scalar(base, start, end);
    }
}

size_t ccscan_find_string_special_or_non_ascii(const uint8_t *base, size_t start, size_t end) {
    switch (level()) {
#if CCSCAN_X86
    case 4:
    case 2: return find_special_na_avx2(base, start, end);
    case 1: return find_special_na_sse2(base, start, end);
#elif CCSCAN_NEON
    case 3: return find_special_na_neon(base, start, end);
#endif
    default: return find_special_na_scalar(base, start, end);
    }
}

int ccscan_skip_string(const uint8_t *base, size_t index, size_t end, size_t *position, int *escaped) {
    switch (level()) {
#if CCSCAN_X86
    case 4: return skip_string_avx512(base, index, end, position, escaped);
    case 2: return skip_string_windows_avx2(base, index, end, position, escaped);
    case 1: return skip_string_sse2(base, index, end, position, escaped);
#elif CCSCAN_NEON
    case 3: return skip_string_windows_neon(base, index, end, position, escaped);
#endif
    default: return skip_string_scalar(base, index, end, position, escaped);
    }
}

int ccscan_unescape(
    const uint8_t *base, size_t index, size_t end, uint8_t *out, size_t *written, size_t *position) {
    switch (level()) {
#if CCSCAN_X86
    case 4: return unescape_avx512(base, index, end, out, written, position);
    case 2: return unescape_windows_avx2(base, index, end, out, written, position);
    case 1: return unescape_sse2(base, index, end, out, written, position);
#elif CCSCAN_NEON
    case 3: return unescape_windows_neon(base, index, end, out, written, position);
#endif
    default: return unescape_scalar(base, index, end, out, written, position);
    }
}

int ccscan_check_utf8(const uint8_t *bytes, size_t count) {
    switch (level()) {
#if CCSCAN_X86
    case 4: return check_utf8_avx512(bytes, count);
    case 2: return check_utf8_avx2(bytes, count);
#elif CCSCAN_NEON
    case 3: return check_utf8_neon(bytes, count);
#endif
    default: return check_utf8_scalar(bytes, count);
    }
}

// MARK: - Counting a folded ASCII term

/// ASCII lowercasing (A-Z), for the comparison of a candidate's middle bytes.
static inline uint8_t ascii_lower(uint8_t c) { return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c | 0x20) : c; }

/// Whether the needle's bytes from 1 to length - 2 match at `at` (its first and last byte were
/// compared already).
static inline int middle_matches(const uint8_t *at, const uint8_t *needle, size_t length) {
    for (size_t j = 1; j + 1 < length; j++) {
        if (ascii_lower(at[j]) != needle[j]) return 0;
    }
    return 1;
}

/// The byte a haystack byte is compared with the needle's byte `n` through: `c | 0x20` for a
/// lowercase letter (A and a both give a), `c` itself for anything else (exact).
static inline uint8_t case_bit(uint8_t n) { return (uint8_t)(n - 'a') < 26 ? 0x20 : 0x00; }

/// The scalar loop from `i`: counts matches starting at or after `*next`, updating it; -1 on a
/// byte >= 0x80.
static ptrdiff_t count_folded_scalar(
    const uint8_t *h, size_t count, size_t i, const uint8_t *needle, size_t length, size_t *next) {
    ptrdiff_t found = 0;
    uint8_t first = needle[0], last = needle[length - 1];
    uint8_t first_bit = case_bit(first), last_bit = case_bit(last);
    for (; i < count; i++) {
        if (h[i] >= 0x80) return -1;
        if (i + length > count || i < *next) continue;
        if ((uint8_t)(h[i] | first_bit) != first || (uint8_t)(h[i + length - 1] | last_bit) != last) continue;
        if (!middle_matches(h + i, needle, length)) continue;
        found++;
        *next = i + length;
    }
    return found;
}

/// Counts the matches among `candidates` (bit k: one may start at `i + k`), left to right,
/// none starting before `*next`, which it advances past each match.
static inline ptrdiff_t count_candidates(
    uint64_t candidates, size_t i, const uint8_t *h, const uint8_t *needle, size_t length, size_t *next) {
    ptrdiff_t found = 0;
    while (candidates) {
        size_t at = i + (size_t)__builtin_ctzll(candidates);
        candidates &= candidates - 1;
        if (at < *next || !middle_matches(h + at, needle, length)) continue;
        found++;
        *next = at + length;
    }
    return found;
}

#if CCSCAN_X86
/// 16 positions at a time: candidates where the first and the last byte both match.
static ptrdiff_t count_folded_sse2(const uint8_t *h, size_t count, const uint8_t *needle, size_t length) {
    const __m128i first = _mm_set1_epi8((char)needle[0]), last = _mm_set1_epi8((char)needle[length - 1]);
    const __m128i first_bit = _mm_set1_epi8((char)case_bit(needle[0]));
    const __m128i last_bit = _mm_set1_epi8((char)case_bit(needle[length - 1]));
    ptrdiff_t found = 0;
    size_t next = 0, i = 0;
    while (i + length - 1 + 16 <= count) {
        __m128i a = _mm_loadu_si128((const __m128i *)(h + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(h + i + length - 1));
        // A byte >= 0x80 anywhere in the window: the caller folds the text instead.
        if (_mm_movemask_epi8(_mm_or_si128(a, b))) return -1;
        unsigned candidates = (unsigned)_mm_movemask_epi8(_mm_and_si128(
            _mm_cmpeq_epi8(_mm_or_si128(a, first_bit), first), _mm_cmpeq_epi8(_mm_or_si128(b, last_bit), last)));
        found += count_candidates(candidates, i, h, needle, length, &next);
        i += 16;
    }
    ptrdiff_t rest = count_folded_scalar(h, count, i, needle, length, &next);
    return rest < 0 ? -1 : found + rest;
}

/// 32 positions at a time.
AVX2 static ptrdiff_t count_folded_avx2(const uint8_t *h, size_t count, const uint8_t *needle, size_t length) {
    const __m256i first = _mm256_set1_epi8((char)needle[0]), last = _mm256_set1_epi8((char)needle[length - 1]);
    const __m256i first_bit = _mm256_set1_epi8((char)case_bit(needle[0]));
    const __m256i last_bit = _mm256_set1_epi8((char)case_bit(needle[length - 1]));
    ptrdiff_t found = 0;
    size_t next = 0, i = 0;
    while (i + length - 1 + 32 <= count) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(h + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(h + i + length - 1));
        if (_mm256_movemask_epi8(_mm256_or_si256(a, b))) return -1;
        uint32_t candidates = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_or_si256(a, first_bit), first),
            _mm256_cmpeq_epi8(_mm256_or_si256(b, last_bit), last)));
        found += count_candidates(candidates, i, h, needle, length, &next);
        i += 32;
    }
    ptrdiff_t rest = count_folded_scalar(h, count, i, needle, length, &next);
    return rest < 0 ? -1 : found + rest;
}
#endif

ptrdiff_t ccscan_count_folded_ascii(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length) {
    if (length == 0) return -1;
    for (size_t j = 0; j < length; j++) {
        if (needle[j] >= 0x80 || (uint8_t)(needle[j] - 'A') < 26) return -1;
    }
    switch (level()) {
#if CCSCAN_X86
    case 4:
    case 2: return count_folded_avx2(haystack, count, needle, length);
    case 1: return count_folded_sse2(haystack, count, needle, length);
#endif
    default: {
        size_t next = 0;
        return count_folded_scalar(haystack, count, 0, needle, length, &next);
    }
    }
}

// MARK: - Folding ASCII, finding a term

static size_t lower_ascii_scalar(const uint8_t *src, size_t count, uint8_t *dst, size_t i) {
    for (; i < count; i++) {
        uint8_t c = src[i];
        if (c >= 0x80) break;
        dst[i] = ascii_lower(c);
    }
    return i;
}

/// The first position from `i` on where `needle` occurs, checking the bytes at its offsets
/// `a` and `b` before the whole needle; -1 when there is none.
static ptrdiff_t find_scalar(const uint8_t *h, size_t count, const uint8_t *needle, size_t length, size_t a, size_t b,
                             size_t i) {
    if (count < length) return -1;
    for (; i + length <= count; i++) {
        if (h[i + a] == needle[a] && h[i + b] == needle[b] && memcmp(h + i, needle, length) == 0) return (ptrdiff_t)i;
    }
    return -1;
}

/// The first of `candidates` (bit k: the two anchor bytes match at `i + k`) where the whole
/// needle matches, or -1.
static inline ptrdiff_t first_match(uint64_t candidates, size_t i, const uint8_t *h, const uint8_t *needle,
                                    size_t length) {
    while (candidates) {
        size_t at = i + (size_t)__builtin_ctzll(candidates);
        candidates &= candidates - 1;
        if (memcmp(h + at, needle, length) == 0) return (ptrdiff_t)at;
    }
    return -1;
}

#if CCSCAN_X86
static size_t lower_ascii_sse2(const uint8_t *src, size_t count, uint8_t *dst) {
    const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1), bit = _mm_set1_epi8(0x20);
    size_t i = 0;
    while (i + 16 <= count) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a), _mm_cmplt_epi8(v, after_z));
        _mm_storeu_si128((__m128i *)(dst + i), _mm_or_si128(v, _mm_and_si128(upper, bit)));
        unsigned high = (unsigned)_mm_movemask_epi8(v);
        if (high) return i + (size_t)__builtin_ctz(high);
        i += 16;
    }
    return lower_ascii_scalar(src, count, dst, i);
}

AVX2 static size_t lower_ascii_avx2(const uint8_t *src, size_t count, uint8_t *dst) {
    const __m256i before_a = _mm256_set1_epi8('A' - 1), after_z = _mm256_set1_epi8('Z' + 1);
    const __m256i bit = _mm256_set1_epi8(0x20);
    size_t i = 0;
    while (i + 32 <= count) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i upper = _mm256_and_si256(_mm256_cmpgt_epi8(v, before_a), _mm256_cmpgt_epi8(after_z, v));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_or_si256(v, _mm256_and_si256(upper, bit)));
        uint32_t high = (uint32_t)_mm256_movemask_epi8(v);
        if (high) return i + (size_t)__builtin_ctz(high);
        i += 32;
    }
    return lower_ascii_scalar(src, count, dst, i);
}

static ptrdiff_t find_sse2(const uint8_t *h, size_t count, const uint8_t *needle, size_t length, size_t a, size_t b) {
    const __m128i first = _mm_set1_epi8((char)needle[a]), second = _mm_set1_epi8((char)needle[b]);
    size_t i = 0;
    while (i + length + 15 <= count) {
        __m128i x = _mm_loadu_si128((const __m128i *)(h + i + a));
        __m128i y = _mm_loadu_si128((const __m128i *)(h + i + b));
        unsigned candidates = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, first), _mm_cmpeq_epi8(y, second)));
        ptrdiff_t at = first_match(candidates, i, h, needle, length);
        if (at >= 0) return at;
        i += 16;
    }
    return find_scalar(h, count, needle, length, a, b, i);
}

AVX2 static ptrdiff_t find_avx2(const uint8_t *h, size_t count, const uint8_t *needle, size_t length, size_t a,
                                size_t b) {
    const __m256i first = _mm256_set1_epi8((char)needle[a]), second = _mm256_set1_epi8((char)needle[b]);
    size_t i = 0;
    while (i + length + 31 <= count) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(h + i + a));
        __m256i y = _mm256_loadu_si256((const __m256i *)(h + i + b));
        uint32_t candidates =
            (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(x, first), _mm256_cmpeq_epi8(y, second)));
        ptrdiff_t at = first_match(candidates, i, h, needle, length);
        if (at >= 0) return at;
        i += 32;
    }
    return find_scalar(h, count, needle, length, a, b, i);
}
#endif

size_t ccscan_lower_ascii(const uint8_t *src, size_t count, uint8_t *dst) {
    switch (level()) {
#if CCSCAN_X86
    case 4:
    case 2: return lower_ascii_avx2(src, count, dst);
    case 1: return lower_ascii_sse2(src, count, dst);
#endif
    default: return lower_ascii_scalar(src, count, dst, 0);
    }
}

ptrdiff_t ccscan_find(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length) {
    if (length == 0) return -1;
    return ccscan_find_anchored(haystack, count, needle, length, 0, length - 1);
}

ptrdiff_t ccscan_find_anchored(const uint8_t *haystack, size_t count, const uint8_t *needle, size_t length,
                               size_t first, size_t second) {
    if (length == 0 || count < length || first >= length || second >= length) return -1;
    switch (level()) {
#if CCSCAN_X86
    case 4:
    case 2: return find_avx2(haystack, count, needle, length, first, second);
    case 1: return find_sse2(haystack, count, needle, length, first, second);
#endif
    default: return find_scalar(haystack, count, needle, length, first, second, 0);
    }
}
