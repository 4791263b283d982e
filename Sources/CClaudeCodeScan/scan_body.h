// The scanning loops, written once and included by scan.c for each instruction set with:
//   SCAN_SUFFIX        a name suffix (_scalar, _sse2, _avx2, _neon)
//   SCAN_ATTR          function attributes (a target("avx2") for the AVX2 copy)
//   SCAN_BLOCK         the block size in bytes
//   SCAN_FIRST(p)      index in [0, SCAN_BLOCK] of the first quote, backslash or control byte
//                      in the SCAN_BLOCK bytes at p (SCAN_BLOCK when there is none)
//   SCAN_FIRST_NA(p)   the same, also stopping at bytes >= 0x80
//   SCAN_COPY_FIRST(p, out)  stores the SCAN_BLOCK bytes at p to out, then as SCAN_FIRST(p)
// Blocks are only loaded when all their bytes are inside the range; the rest is scanned byte
// by byte.

#define SCAN_CAT2(a, b) a##b
#define SCAN_CAT(a, b) SCAN_CAT2(a, b)

SCAN_ATTR static inline size_t SCAN_CAT(find_special, SCAN_SUFFIX)(const uint8_t *base, size_t i, size_t end) {
    while (end - i >= SCAN_BLOCK && i < end) {
        unsigned k = SCAN_FIRST(base + i);
        if (k < SCAN_BLOCK) return i + k;
        i += SCAN_BLOCK;
    }
    for (; i < end; i++) {
        uint8_t c = base[i];
        if (c == '"' || c == '\\' || c < 0x20) return i;
    }
    return end;
}

SCAN_ATTR static inline size_t SCAN_CAT(find_special_na, SCAN_SUFFIX)(const uint8_t *base, size_t i, size_t end) {
    while (end - i >= SCAN_BLOCK && i < end) {
        unsigned k = SCAN_FIRST_NA(base + i);
        if (k < SCAN_BLOCK) return i + k;
        i += SCAN_BLOCK;
    }
    for (; i < end; i++) {
        uint8_t c = base[i];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return i;
    }
    return end;
}

SCAN_ATTR static int SCAN_CAT(skip_string, SCAN_SUFFIX)(
    const uint8_t *base, size_t i, size_t end, size_t *position, int *escaped) {
    for (;;) {
        i = SCAN_CAT(find_special, SCAN_SUFFIX)(base, i, end);
        if (i >= end) {
            *position = end;
            return CCSCAN_END;
        }
        uint8_t c = base[i];
        if (c == '"') {
            *position = i;
            return CCSCAN_QUOTE;
        }
        if (c < 0x20) {
            *position = i;
            return CCSCAN_CONTROL;
        }
        // A backslash.
        *escaped = 1;
        if (end - i < 2) {
            *position = i;
            return CCSCAN_TRUNCATED_ESCAPE;
        }
        uint8_t e = base[i + 1];
        if (simple_escape[e]) {
            i += 2;
            continue;
        }
        if (e != 'u') {
            *position = i;
            return CCSCAN_BAD_ESCAPE;
        }
        if (hex4(base, i + 2, end) < 0) {
            *position = i;
            return CCSCAN_BAD_UNICODE_ESCAPE;
        }
        i += 6;
    }
}

SCAN_ATTR static int SCAN_CAT(unescape, SCAN_SUFFIX)(
    const uint8_t *base, size_t r, size_t end, uint8_t *out, size_t *written, size_t *position) {
    // `w - *written` never exceeds `r - index` (no escape decodes to more bytes than it takes),
    // so a whole block stored at `out + w` while `end - r >= SCAN_BLOCK` stays inside `out`.
    size_t w = *written;
    int status;
    for (;;) {
        if (r < end && end - r >= SCAN_BLOCK) {
            unsigned k = SCAN_COPY_FIRST(base + r, out + w);
            r += k;
            w += k;
            if (k == SCAN_BLOCK) continue;
        } else {
            if (r >= end) {
                status = CCSCAN_END;
                r = end;
                break;
            }
            uint8_t c = base[r];
            if (c != '"' && c != '\\' && c >= 0x20) {
                out[w++] = c;
                r++;
                continue;
            }
        }
        uint8_t c = base[r];
        if (c == '"') {
            status = CCSCAN_QUOTE;
            break;
        }
        if (c < 0x20) {
            status = CCSCAN_CONTROL;
            break;
        }
        // A backslash.
        if (end - r < 2) {
            status = CCSCAN_TRUNCATED_ESCAPE;
            break;
        }
        uint8_t e = base[r + 1];
        uint8_t s = simple_escape[e];
        if (s) {
            out[w++] = s;
            r += 2;
            continue;
        }
        if (e != 'u') {
            status = CCSCAN_BAD_ESCAPE;
            break;
        }
        int32_t unit = hex4(base, r + 2, end);
        if (unit < 0) {
            status = CCSCAN_BAD_UNICODE_ESCAPE;
            break;
        }
        r += 6;
        uint32_t scalar = (uint32_t)unit;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            // A high surrogate: paired with a following \uDC00-\uDFFF, else U+FFFD.
            int32_t low = -1;
            if (end - r >= 6 && base[r] == '\\' && base[r + 1] == 'u') low = hex4(base, r + 2, end);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                scalar = 0x10000 + (((uint32_t)unit - 0xD800) << 10) + ((uint32_t)low - 0xDC00);
                r += 6;
            } else {
                scalar = 0xFFFD;
            }
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            scalar = 0xFFFD;
        }
        w += write_utf8(scalar, out + w);
    }
    *written = w;
    *position = r;
    return status;
}


#ifdef SCAN_WINDOW
/// ccscan_skip_string 64 bytes at a time: per window, the escaped bytes are found from the
/// backslash mask (runs of backslashes included), every escape character is checked against
/// the one-character escapes at once, and the first unescaped quote or control byte ends the
/// string. A window with anything else before its end (a `\u` escape, an invalid escape, a
/// control byte) and the last partial window go to the exact loop above, which then reports
/// the same result at the same offset.
SCAN_ATTR static int SCAN_CAT(skip_string_windows, SCAN_SUFFIX)(
    const uint8_t *base, size_t i, size_t end, size_t *position, int *escaped) {
    uint64_t carry = 0;
    int any = 0;
    while (i <= end && end - i >= 64) {
        struct scan_window m;
        SCAN_WINDOW(base + i, &m);
        uint64_t carried = carry;
        uint64_t escaped_bits = find_escaped(m.backslash, &carry);
        uint64_t stop = (m.quote & ~escaped_bits) | m.control;
        uint64_t first = stop & (0 - stop);
        uint64_t escapes = escaped_bits & (first - 1);
        if ((escapes & ~m.simple) | (first & m.control)) {
            if (any) *escaped = 1;
            return SCAN_CAT(skip_string, SCAN_SUFFIX)(base, i - carried, end, position, escaped);
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
    return SCAN_CAT(skip_string, SCAN_SUFFIX)(base, i - carry, end, position, escaped);
}

/// ccscan_unescape 64 bytes at a time while at least 128 bytes are left: per window, the
/// escapes are found as in skip_string_windows, the runs between them copied with whole-block
/// stores and each escape written from the table. A window ending in a backslash that escapes
/// the next window's first byte stops before it, so every window starts outside an escape. A
/// window with anything else (a `\u` escape, an invalid escape, a control byte) and the last
/// 128 bytes go to the exact loop.
SCAN_ATTR static int SCAN_CAT(unescape_windows, SCAN_SUFFIX)(
    const uint8_t *base, size_t r, size_t end, uint8_t *out, size_t *written, size_t *position) {
    // Output never gets ahead of input, so with 128 input bytes left a 64-byte store at any
    // point of the window stays inside `out`, and 64-byte loads inside the input.
    size_t w = *written;
    while (r <= end && end - r >= 128) {
        struct scan_window m;
        SCAN_WINDOW(base + r, &m);
        uint64_t carry = 0;
        uint64_t escaped_bits = find_escaped(m.backslash, &carry);
        uint64_t stop = (m.quote & ~escaped_bits) | m.control;
        uint64_t first = stop & (0 - stop);
        uint64_t escapes = escaped_bits & (first - 1);
        if ((escapes & ~m.simple) | (first & m.control)) break;
        size_t limit = first ? (size_t)__builtin_ctzll(first) : 64 - (size_t)carry;
        const uint8_t *src = base + r;
        size_t from = 0;
        while (escapes) {
            size_t k = (size_t)__builtin_ctzll(escapes);  // the escaped byte; its backslash is at k - 1
            SCAN_COPY64(out + w, src + from);
            w += k - 1 - from;
            out[w++] = simple_escape[src[k]];
            from = k + 1;
            escapes &= escapes - 1;
        }
        SCAN_COPY64(out + w, src + from);
        w += limit - from;
        r += limit;
        if (first) {
            *written = w;
            *position = r;
            return CCSCAN_QUOTE;
        }
    }
    *written = w;
    return SCAN_CAT(unescape, SCAN_SUFFIX)(base, r, end, out, written, position);
}
#endif

#undef SCAN_CAT
#undef SCAN_CAT2
