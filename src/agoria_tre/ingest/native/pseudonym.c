/* Keyed pseudonyms for a whole Arrow string column at once: HMAC-SHA256 of each value,
 * RFC 4648 base32 (upper case), first 26 characters. The same bytes as the pure-Python path
 * in keys.py (a test compares them). The inner and outer hash states are computed once for
 * the key and copied for every value; a value equal to the one before it (extracts sorted
 * by patient) reuses its pseudonym. Built by scripts/bootstrap.sh:
 *   gcc -O2 -shared -fPIC pseudonym.c -o libagoria_pseudonym.so -lcrypto
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define WIDTH 26

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void base32_prefix(const uint8_t digest[32], uint8_t *out) {
    /* 26 characters = 130 bits: 4 groups of 5 bytes give 8 characters each. */
    int written = 0;
    for (int group = 0; group < 4 && written < WIDTH; group++) {
        uint64_t bits = 0;
        for (int j = 0; j < 5; j++) bits = (bits << 8) | digest[group * 5 + j];
        for (int j = 0; j < 8 && written < WIDTH; j++, written++)
            out[written] = (uint8_t)ALPHABET[(bits >> (35 - 5 * j)) & 31];
    }
}

/* values: Arrow string data; offsets: n + 1 int32 offsets; out: n * WIDTH bytes. */
int agoria_pseudonyms(const uint8_t *key, int64_t key_length, const uint8_t *values,
                      const int32_t *offsets, int64_t n, uint8_t *out) {
    uint8_t block[64] = {0}, pad[64], digest[32];
    SHA256_CTX inner, outer, work;
    if (key_length > 64) {
        SHA256(key, (size_t)key_length, block);
    } else {
        memcpy(block, key, (size_t)key_length);
    }
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    if (!SHA256_Init(&inner) || !SHA256_Update(&inner, pad, 64)) return -1;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    if (!SHA256_Init(&outer) || !SHA256_Update(&outer, pad, 64)) return -1;
    for (int64_t row = 0; row < n; row++) {
        const uint8_t *value = values + offsets[row];
        int32_t length = offsets[row + 1] - offsets[row];
        uint8_t *target = out + row * WIDTH;
        if (row > 0 && length == offsets[row] - offsets[row - 1] &&
            memcmp(value, values + offsets[row - 1], (size_t)length) == 0) {
            memcpy(target, target - WIDTH, WIDTH);
            continue;
        }
        work = inner;
        SHA256_Update(&work, value, (size_t)length);
        SHA256_Final(digest, &work);
        work = outer;
        SHA256_Update(&work, digest, 32);
        SHA256_Final(digest, &work);
        base32_prefix(digest, target);
    }
    memset(block, 0, sizeof block);
    memset(pad, 0, sizeof pad);
    memset(&inner, 0, sizeof inner);
    memset(&outer, 0, sizeof outer);
    memset(&work, 0, sizeof work);
    return 0;
}
